/** The registry of reproductions, in seed order. Adding one here is all the test plumbing it needs. */
import type { Experiment } from "../src/runner/experiment.ts";
import { nowhereTight } from "./paper01/nowhereTight.ts";
import { longTail } from "./paper02/longTail.ts";
import { memorizationLongTail } from "./paper02/memorizationNN.ts";
import { coherence } from "./paper03/coherence.ts";
import { moePathways } from "./paper10/pathways.ts";
import { xorBenign } from "./paper12/xorBenign.ts";
import { dataDiet } from "./paper13/dataDiet.ts";
import { moreIsBetter } from "./paper16/moreIsBetter.ts";
import { corruptedModular } from "./paper27/corruptedModular.ts";
import { lazyRich } from "./paper25/lazyRich.ts";
import { grokkingModular } from "./paper27/grokkingModular.ts";
import { phaseDiagram } from "./paper27/phaseDiagram.ts";
import { twoHop } from "./paper31/twoHop.ts";
import { promptBounds } from "./paper26/promptBounds.ts";
import { temperatureScaling } from "./paper30/temperatureScaling.ts";
import { usefulSynthetic } from "./paper33/usefulSynthetic.ts";
import { usefulFashion } from "./paper33/usefulFashion.ts";
import { labelNoiseBench } from "./benchmarks/labelNoise.ts";
import { fantasticZoo } from "./benchmarks/fantasticZoo.ts";
import { memEstimatorBench } from "./benchmarks/memEstimator.ts";

export const EXPERIMENTS: readonly Experiment[] = [nowhereTight, longTail, memorizationLongTail, coherence, moePathways, xorBenign, dataDiet, moreIsBetter, lazyRich, grokkingModular, corruptedModular, phaseDiagram, twoHop, promptBounds, temperatureScaling, usefulSynthetic, usefulFashion, labelNoiseBench, memEstimatorBench, fantasticZoo];
