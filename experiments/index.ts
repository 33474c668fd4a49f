/** The registry of reproductions, in seed order. */
import type { Experiment } from "../src/runner/experiment.ts";
import { grokkingModular } from "./paper27/grokkingModular.ts";

export const EXPERIMENTS: readonly Experiment[] = [grokkingModular];
