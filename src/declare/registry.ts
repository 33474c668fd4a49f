import { userError } from "../core/errors.ts";
import type { Experiment } from "./experiment.ts";

export function findExperiment(registry: readonly Experiment[], id: string): Experiment {
  const exp = registry.find((e) => e.id === id);
  if (!exp) {
    const ids = registry.map((e) => e.id).join(", ");
    throw userError("unknown_experiment", ["<experiment>"], `unknown experiment ${JSON.stringify(id)}; valid experiments: ${ids}`);
  }
  return exp;
}

export function sortedBySeed(registry: readonly Experiment[]): Experiment[] {
  return [...registry].sort((a, b) => a.paper - b.paper || a.id.localeCompare(b.id));
}
