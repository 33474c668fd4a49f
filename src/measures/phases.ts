/**
 * The phase classifier of Doshi et al. (ICLR 2024), App. C Table 2, for modular arithmetic with a fraction
 * ξ of corrupted training labels (train accuracy is measured against the noisy labels):
 *
 *   test ≥ 90% and train ≥ 90%                       → coexistence (memorises the corrupted labels and generalises)
 *   test ≥ 90% and 100(1.05 − ξ)% ≤ train < 90%      → partial inversion
 *   test ≥ 90% and train < 100(1.05 − ξ)%            → full inversion (ignores the corrupted labels)
 *   test < 90% and train ≥ 90%                       → memorization
 *   test < 90% and train < 90%                       → forgetting / confusion
 */
export const GROK_PHASES = ["coexistence", "partial_inversion", "full_inversion", "memorization", "forgetting"] as const;
export type GrokPhase = (typeof GROK_PHASES)[number];

export function doshiPhase(trainAcc: number, testAcc: number, xi: number): GrokPhase {
  if (![trainAcc, testAcc, xi].every(Number.isFinite)) throw new RangeError(`doshiPhase: expected finite accuracies and ξ, got train ${trainAcc}, test ${testAcc}, ξ ${xi}`);
  const full = Math.round((1.05 - xi) * 1e9) / 1e9; // 1.05 − 0.35 is 0.7000000000000001 in floats
  if (testAcc >= 0.9) {
    if (trainAcc >= 0.9) return "coexistence";
    return trainAcc >= full ? "partial_inversion" : "full_inversion";
  }
  return trainAcc >= 0.9 ? "memorization" : "forgetting";
}

/** The phase's index in GROK_PHASES (a heatmap's colour value). */
export const phaseIndex = (p: GrokPhase): number => GROK_PHASES.indexOf(p);
