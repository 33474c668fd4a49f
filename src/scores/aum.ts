/**
 * Area under the margin (id "aum"; Pleiss, Zhang, Elenberg, Weinberger 2020, "Identifying Mislabeled Data
 * using the Area Under the Margin Ranking", NeurIPS, eqs. 1–2): the margin of example (x, y) at epoch t is
 *
 *   M_t(x, y) = z_y(x) − max_{k ≠ y} z_k(x)        (logits of the network at t)
 *
 * and AUM(x, y) = (1/T) Σ_{t=1..T} M_t(x, y). Mislabeled examples have low (negative) AUM: the network's
 * generalisation pulls their logits towards the true class while their given label is being memorised.
 * The paper averages over every epoch of training; genlab averages over the logged epochs after
 * initialisation. Lower AUM = more suspicious.
 */
import { epochRows, meanOverEpochs, type Dynamics } from "./dynamics.ts";

export const AUM_ID = "aum";

export function aum(d: Dynamics, rows = epochRows(d, 1)): Float64Array {
  return meanOverEpochs(d, "margin", rows);
}

/**
 * Pleiss et al.'s threshold (§3.2): the `percentile`-th percentile (default 99) of the AUMs of threshold
 * examples, i.e. examples deliberately assigned to an extra, fake class: an example whose AUM is below it is
 * flagged as mislabeled.
 */
export function aumThreshold(thresholdAums: ArrayLike<number>, percentile = 99): number {
  const s = Float64Array.from(thresholdAums).sort();
  if (s.length === 0) throw new RangeError("aumThreshold: no threshold examples");
  const pos = (percentile / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}
