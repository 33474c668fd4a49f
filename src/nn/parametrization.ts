/**
 * abc-parametrizations (Yang & Hu 2021, "Feature Learning in Infinite-Width Neural Networks", §3):
 * a dense weight is W = m·w with a forward multiplier m and a trained parameter w ~ N(0, std²).
 * With fan-in f of the layer, width n and the constant data dimension d of the input layer:
 *
 * | param.    | input layer (fan-in d)        | hidden layer (fan-in n) | output layer (fan-in n)   |
 * |-----------|-------------------------------|-------------------------|---------------------------|
 * | standard  | m = 1,    std = σ/√d          | m = 1,     std = σ/√n   | m = 1,     std = σ/√n     |
 * | ntk       | m = σ/√d, std = 1             | m = σ/√n,  std = 1      | m = σ/√n,  std = 1        |
 * | mup       | m = √n,   std = σ/√(n·d)      | m = 1,     std = σ/√n   | m = 1/√n,  std = 1/√n     |
 *
 * μP is in its SGD form (Yang & Hu Table 3 with c = 0: one global SGD learning rate is width-stable).
 * At initialisation all three give the same forward function in distribution except μP's output layer,
 * whose effective weights have std 1/n instead of 1/√n (the output starts near 0 at large width).
 * σ is the gain of the activation (√2 for ReLU, 1 otherwise) times the user's `initScale`.
 */
export type Parametrization = "standard" | "ntk" | "mup";
export type LayerRole = "input" | "hidden" | "output";

export function layerScales(
  param: Parametrization,
  role: LayerRole,
  fanIn: number,
  fanOut: number,
  gain: number,
): { multiplier: number; initStd: number } {
  switch (param) {
    case "standard":
      return { multiplier: 1, initStd: gain / Math.sqrt(fanIn) };
    case "ntk":
      return { multiplier: gain / Math.sqrt(fanIn), initStd: 1 };
    case "mup": {
      if (role === "input") return { multiplier: Math.sqrt(fanOut), initStd: gain / Math.sqrt(fanOut * fanIn) };
      if (role === "hidden") return { multiplier: 1, initStd: gain / Math.sqrt(fanIn) };
      return { multiplier: 1 / Math.sqrt(fanIn), initStd: gain / Math.sqrt(fanIn) };
    }
  }
}

export function layerRole(index: number, count: number): LayerRole {
  if (count === 1) return "output";
  if (index === 0) return "input";
  return index === count - 1 ? "output" : "hidden";
}
