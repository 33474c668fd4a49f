/** What experiments commonly need that a fresh machine may lack, as `Need`s (see experiment.ts). */
import { digitsAvailable } from "../io/digits.ts";
import { fashionMnistAvailable } from "../io/fashionMnist.ts";
import type { Need } from "./experiment.ts";
import type { Values } from "./schema.ts";

/** Fashion-MNIST's IDX files (Debian's dataset-fashion-mnist); `when`: only for these hparams (default: always). */
export function fashionMnistNeed(when?: (h: Values) => boolean): Need {
  return {
    what: "Fashion-MNIST",
    how: "sudo apt-get install dataset-fashion-mnist, or GENLAB_FASHION_MNIST_DIR=<folder with the four IDX files>",
    met: (h) => (when !== undefined && !when(h)) || fashionMnistAvailable(),
  };
}

/** The 8×8 digits (Debian's python3-sklearn ships them as a CSV); `when`: only for these hparams (default: always). */
export function digitsNeed(when?: (h: Values) => boolean): Need {
  return {
    what: "the 8×8 digits",
    how: "sudo apt-get install python3-sklearn, or GENLAB_DIGITS_FILE=<digits.csv[.gz]>",
    met: (h) => (when !== undefined && !when(h)) || digitsAvailable(),
  };
}
