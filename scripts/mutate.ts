/**
 * A small mutation run of the numeric core and the server (issue 9): each mutation is a realistic bug
 * applied to the source alone, then the unit tests run; a mutation is *killed* when they fail. The
 * score (killed / total) goes in the README. Not part of CI (it runs the unit tests once per mutation).
 *
 *   node --import tsx scripts/mutate.ts            all mutations
 *   node --import tsx scripts/mutate.ts adam clip  those whose id contains one of the words
 *
 * The source is restored after each mutation (and on Ctrl-C); `git diff` is clean afterwards.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

/** native: the file is C code of the addon, rebuilt (npm run build:native) after the mutation and again after the restore. */
/** env: extra environment of the test run (GENLAB_BACKEND=native for the tests that run only there). */
type Mutation = { id: string; file: string; find: string; replace: string; what: string; only?: string; pattern?: string; native?: boolean; env?: Record<string, string> };

const UNIT = "core.test,nn.test,optim.test,data.test,train.test,measures.test,scores.test,runner.test,web.test,gaps.test,fuzz.test";

export const MUTATIONS: Mutation[] = [
  { id: "adam-bias-correction", file: "src/optim/transform.ts", find: "m.div(bc1.ref).div(np.sqrt(v.div(bc2.ref)).add(eps))", replace: "m.div(np.sqrt(v).add(eps))", what: "Adam without bias correction" },
  { id: "adam-second-moment", file: "src/optim/transform.ts", find: "np.square(g).mul(1 - b2)", replace: "g.mul(1 - b2)", what: "Adam's second moment of g, not g²" },
  { id: "adamw-coupled", file: "src/optim/aliases.ts", find: "chain(scaleByAdam(opts.b1 ?? 0.9, opts.b2 ?? 0.999, opts.eps ?? 1e-8), addDecayedWeights(opts.weightDecay ?? 1e-4), scaleByLearningRate(lr))", replace: "chain(addDecayedWeights(opts.weightDecay ?? 1e-4), scaleByAdam(opts.b1 ?? 0.9, opts.b2 ?? 0.999, opts.eps ?? 1e-8), scaleByLearningRate(lr))", what: "AdamW's decay coupled (inside Adam)" },
  { id: "momentum-sign", file: "src/optim/transform.ts", find: "tr.mul(decay).add(g), trace, u)", replace: "tr.mul(decay).sub(g), trace, u)", what: "heavy-ball momentum subtracts the gradient" },
  { id: "clip-max", file: "src/optim/transform.ts", find: "np.minimum(np.array(1, { dtype: norm.dtype })", replace: "np.maximum(np.array(1, { dtype: norm.dtype })", what: "gradient clipping scales up" },
  { id: "ce-axis", file: "src/nn/losses.ts", find: "logp.mul(onehot).sum(-1).mean().neg()", replace: "logp.mul(onehot).sum(0).mean().neg()", what: "cross-entropy summed over the batch axis" },
  { id: "ce-naive-logsumexp", file: "src/nn/losses.ts", find: "const logp = nn.logSoftmax(maskLogits(logits, validClasses), -1);", replace: "const rows = logits.shape[0];\n  const ml = maskLogits(logits, validClasses);\n  const logp = ml.ref.sub(np.log(np.exp(ml).sum(-1)).reshape([rows, 1]));", what: "log-sum-exp without max subtraction (mutation a)" },
  { id: "accuracy-axis", file: "src/nn/losses.ts", find: "return np.argmax(maskLogits(logits, validClasses), -1).equal(labels).astype(DType.Float32).mean();", replace: "return np.argmax(maskLogits(logits, validClasses), 0).equal(labels).astype(DType.Float32).mean();", what: "accuracy's argmax over the batch" },
  { id: "padding-mask", file: "src/nn/losses.ts", find: "classMask(c, validClasses, dtype).sub(1).mul(1e9)", replace: "classMask(c, validClasses, dtype).sub(1).mul(0)", what: "padded logits not masked" },
  { id: "el2n-no-sqrt", file: "src/scores/perExample.ts", find: "return np.sqrt(np.square(p.sub(nn.oneHot(labels, c).astype(DType.Float32))).sum(-1));", replace: "return np.square(p.sub(nn.oneHot(labels, c).astype(DType.Float32))).sum(-1);", what: "EL2N squared" },
  { id: "ghost-multiplier", file: "src/scores/perExample.ts", find: ".mul(m * m).mul(d2.ref)", replace: ".mul(m).mul(d2.ref)", what: "ghost norms with the layer multiplier once, not squared" },
  { id: "ghost-no-bias", file: "src/scores/perExample.ts", find: "if (hasBias[i]) term = term.add(d2);\n    else d2.dispose();", replace: "d2.dispose();", what: "ghost norms without the bias gradient" },
  { id: "log-last-step", file: "src/train/schedule.ts", find: "new Set<number>([0, total])", replace: "new Set<number>([0])", what: "the last step not logged (off by one)" },
  { id: "split-overlap", file: "src/data/modular.ts", find: "const testPairs = pick(nTrain, total);", replace: "const testPairs = pick(nTrain - 1, total);", what: "train and test splits share a pair" },
  { id: "grok-verdict-boundary", file: "src/declare/criteria.ts", find: "      return v >= (t as number);", replace: "      return v > (t as number);", what: "the >= comparator of every criterion made strict (a delay of exactly 5× fails)", only: "verdicts,grokking.test" },
  { id: "resume-fresh-moments", file: "src/train/loop.ts", find: "optState = treeFromHost(unpackHostTree(cfg.resume.optState));", replace: "optState = cfg.optimizer.init(treeRef(params));", what: "resume with fresh optimizer moments" },
  { id: "power-iteration-start", file: "src/measures/hessian.ts", find: "v = treeScale(v, np.reciprocal(np.sqrt(treeVdot(treeRef(v), treeRef(v)))));", replace: "", what: "unnormalized power-iteration start (mutation b)" },
  { id: "report-pass", file: "src/report/html.ts", find: '  return `<span class="badge ${cls}">${v}</span>`;', replace: '  return `<span class="badge pass">PASS</span>`;', what: "the report prints PASS for a failed verdict (mutation c)" },
  { id: "server-segments", file: "src/server/serve.ts", find: 'return parts.some((p) => p === ".." || p === "." || p.includes("/") || p.includes("\\\\") || p.includes("\\0")) ? null : parts;', replace: "return parts;", what: "server check 1 removed: decoded segments (mutation d)" },
  { id: "server-figure-name", file: "src/server/serve.ts", find: "export const isFigureName = (name: string) => FIGURE.test(name);", replace: "export const isFigureName = (name: string) => name.length > 0;", what: "server check 2 removed: figure names (mutation d)" },
  { id: "server-inside", file: "src/server/serve.ts", find: "  if (!p.startsWith(realDir + sep)) return null;\n", replace: "", what: "server check 3 removed: the path stays in its folder (mutation d)" },
  { id: "server-realpath-root", file: "src/server/serve.ts", find: "  if (realDir !== realRoot && !realDir.startsWith(realRoot + sep)) return null;\n", replace: "", what: "the folder's real path is not checked against the run folder" },
  { id: "server-nofollow", file: "src/server/serve.ts", find: "constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK", replace: "constants.O_RDONLY | constants.O_NONBLOCK", what: "figures opened following symlinks" },
  { id: "server-host", file: "src/server/serve.ts", find: "if (!host || !hosts.has(hostOf(host)))", replace: "if (!host)", what: "the Host header not checked (DNS rebinding)" },
  { id: "server-token", file: "src/server/serve.ts", find: "if (!given || !safeEqual(given, opts.token))", replace: "if (!given)", what: "any token accepted" },
  { id: "role-keys", file: "src/core/prng.ts", find: "roles.map((r, i) => [r, keys[i]])", replace: "roles.map((r, i) => [r, keys[Math.min(i, 1)]])", what: "two roles share a key (mutation e)" },
  { id: "idx-inflate-cap", file: "src/data/idx.ts", find: "    if (total > limit) throw", replace: "    if (false) throw", what: "gzip inflated without a cap" },
  // issue 21: the user-data commands' new checks
  { id: "out-is-input", file: "src/io/paths.ts", find: "if (existsSync(p) && sameFile(p, f)) throw", replace: "if (false) throw", what: "an --out that is an input is accepted (the input overwritten)", only: "issue21-data" },
  { id: "csv-header-inverted", file: "src/data/csv.ts", find: 'if (cells.every((c) => NUMBER.test(c) || MISSING.test(c))) return "data";', replace: 'if (cells.every((c) => NUMBER.test(c) || MISSING.test(c))) return "header";', what: "the header heuristic inverted (a first row of numbers and NaN eaten as a header)", only: "issue21-data,data.test" },
  { id: "class-bound", file: "src/io/userData.ts", find: "if (v >= MAX_CLASSES) throw", replace: "if (false) throw", what: "no bound on the number of classes (label 10⁶ allocates a 10⁶-class model)", only: "issue21-data" },
  { id: "prune-duplicate-index", file: "src/io/scoreFile.ts", find: "if (first !== undefined) throw", replace: "if (false) throw", what: "prune writes duplicate indices", only: "issue21-data" },
  { id: "safetensors-tiling", file: "src/io/modelFiles.ts", find: "checkSafetensorsLayout(bytes, file);", replace: "", what: "safetensors data_offsets not checked (overlapping tensors accepted)", only: "issue21-store" },
  { id: "merge-sources-readwrite", file: "src/cli/main.ts", find: "new RunStore(p, { readonly: true, upgradeCopy: true })", replace: "new RunStore(p)", what: "merge opens its sources read-write (a v2 source upgraded in place)", only: "issue21-store" },
  { id: "merge-unknown-column", file: "src/runner/store.ts", find: 'if (what) throw userError("incompatible_store"', replace: 'if (false) throw userError("incompatible_store"', what: "a source with unknown columns merged (exit 70, the target touched)", only: "issue21-store" },
  { id: "near-duplicate-exact", file: "src/scores/nearDuplicates.ts", find: "    if (copy[i] < 0) continue;\n", replace: "    continue;\n", what: "exact duplicates not found on the host (zero rows under cosine, a majority of copies)", only: "issue21-scores" },
  // issue 23 (dispatch): the jax-js patch's executable cache and pending programs, and what changed with them
  { id: "pending-program-stale-exe", file: "node_modules/@jax-js/jax/dist/index.js", find: "\t\t\texes.push(exe);\n", replace: "\t\t\texes.push(exes[0] ?? exe);\n", what: "a jitted run dispatches its first kernel's cached executable for every kernel", only: "executableCache" },
  { id: "pending-program-held", file: "node_modules/@jax-js/jax/dist/index.js", find: "\t\t\tfor (const id of this.plan.held) backend.decRef(scope[id]);\n", replace: "", what: "a submitted run keeps its inputs and outputs (a leak per call)", only: "executableCache" },
  { id: "pending-program-temporaries", file: "node_modules/@jax-js/jax/dist/index.js", find: "\t\t\t\t\tbackend.decRef(scope[step.input]);\n\t\t\t\t\tscope[step.input] = void 0;\n", replace: "\t\t\t\t\tscope[step.input] = void 0;\n", what: "a run's temporaries never freed", only: "executableCache" },
  { id: "gather-pending-twice", file: "node_modules/@jax-js/jax/dist/index.js", find: "const pending = [...new Set([...this.#pending, ...indices.flatMap((ar) => ar.#pending)])];", replace: "const pending = [...this.#pending, ...indices.flatMap((ar) => ar.#pending)];", what: "a gather counts a run twice when its array and indices come from it (the run leaks if unread)", only: "executableCache" },
  { id: "key-from-seed-order", file: "src/core/prng.ts", find: "new Uint32Array([0, seed])", replace: "new Uint32Array([seed, 0])", what: "a key from a seed with its two words swapped (not random.key's bits)" },
  { id: "kth-last-pass", file: "src/core/order.ts", find: "result = result === null ? m : np.where(remaining.less(fixed), m, result);", replace: "result = m;", what: "the last pass of an order statistic overwrites answers fixed earlier (ties)", only: "grokking.test" },
  { id: "cmi-pair-code", file: "src/measures/rankCorrelation.ts", find: "out[p] = c[pi[p]] * V + c[pj[p]];", replace: "out[p] = c[pi[p]] + c[pj[p]];", what: "CMI's pair codes collide ((a, b) and (b, a) in one cell)", only: "rankCorrelation" },
  { id: "gemm-k-blocks-overwrite", file: "native/genlab_gemm.c", find: "int mode = pc > 0 ? 1 : beta == 0.0f", replace: "int mode = beta == 0.0f", what: "the own GEMM's later K blocks overwrite C instead of adding to it", only: "gemm.test", native: true },
  { id: "gemm-beta0-reads-c", file: "native/genlab_gemm.c", find: "        if (mode == 0) VSTORE(cp, acc[i][v]);", replace: "        if (mode == 0) VSTORE(cp, VADD(VLOAD(cp), acc[i][v]));", what: "the own GEMM reads C when beta = 0 (a NaN left in the output propagates)", only: "gemm.test", native: true },
  { id: "gemm-tail-unmasked", file: "native/genlab_gemm.c", find: "        if (mode == 0) VMSTORE(cp, acc[i][v], n);", replace: "        if (mode == 0) VSTORE(cp, acc[i][v]);", what: "the own GEMM stores whole vectors at the last columns (writes past C's row)", only: "gemm.test", native: true },
  { id: "gemm-packb-t-offset", file: "native/genlab_gemm.c", find: "const float *src = B + (j0 + s + j) * ldb + p0;", replace: "const float *src = B + (j0 + s + j) * ldb;", what: "the own GEMM packs a transposed B from its first K block every time", only: "gemm.test", native: true },
  { id: "epilogue-no-column", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: '\t\telse if (fits("col")) out.push({ arg: t.arg[0], off, row: false, col: true });\n', replace: "", what: "a matmul epilogue with a column term (an HVP's tangent logits) left to jax-js's generic kernel", only: "nativeCalls", env: { GENLAB_BACKEND: "native" } },
  { id: "materialize-col-index", file: "native/genlab_blas.c", find: "st[sp][j] = src[(t0 + j) / row];", replace: "st[sp][j] = src[(t0 + j) % row];", what: "the addon's LOAD_COL reads a row vector's element", only: "nativeCalls", native: true, env: { GENLAB_BACKEND: "native" } },
  { id: "wasm-packed-strip", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: "get(PS); get(J); i32(kLen * 4); mul(); add(); set(PB);", replace: "get(PS); get(J); i32(kLen * 4); mul(); add(); i32(32); add(); set(PB);", what: "the Wasm matmul reads the packed B strip one k row late", only: "matmul" },
  { id: "wasm-scratch-leak", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: "\t\t\t\t\t\t} finally {\n\t\t\t\t\t\t\tthis.decRef(slot);\n", replace: "\t\t\t\t\t\t} finally {\n", what: "the Wasm matmul's scratch buffer never freed (a leak per call)", only: "executableCache" },
  { id: "batched-inner-stride", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: "get(L.BB); i32(batch.inner); c.push(112); i32(st[1] * 4);", replace: "get(L.BB); i32(batch.inner); c.push(112); i32(st[0] * 4);", what: "the Wasm batched matmul steps the inner batch axis by the outer axis's stride", only: "matmul" },
  { id: "batched-native-offset", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: "return Math.floor(b / inner) * st[0] + (b % inner) * st[1];", replace: "return b * st[1];", what: "the native batched matmul treats two batch axes as one", only: "matmul", env: { GENLAB_BACKEND: "native" } },
  { id: "wasm-relu-min", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: "simd(233); // f32x4.max", replace: "simd(232); // f32x4.max", what: "the Wasm matmul's ReLU epilogue takes min(·, 0)", only: "matmul" },
  { id: "wasm-packed-a-rows", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: "c.push(56, 2, ...uleb(r * 4)); // f32.store", replace: "c.push(56, 2, ...uleb((3 - r) * 4)); // f32.store", what: "the Wasm matmul packs A's 4 rows in reverse order", only: "matmul" },
  { id: "wasm-rows-mod-dep", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: 'else r = { inv: a.inv ? make("Mod", "int32", [a.inv, cc]) : null, dep: a.dep, m: a.m, D: a.D, nonneg: true };', replace: 'else r = { inv: a.inv ? make("Mod", "int32", [a.inv, cc]) : null, dep: null, m: a.m, D: 0, nonneg: true };', what: "a row kernel drops the position in the row from (gr + gj) % c", only: "rowKernels" },
  { id: "wasm-rows-idiv-dep", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: 'if (x.op === "Idiv") r = { inv: a.inv ? make("Idiv", "int32", [a.inv, cc]) : null, dep: a.D < c ? null', replace: 'if (x.op === "Idiv") r = { inv: a.inv ? make("Idiv", "int32", [a.inv, cc]) : null, dep: a.D >= 0 ? null', what: "a row kernel drops gj / c from (gr + gj) / c (the mean pool's upsampling)", only: "rowKernels" },
  { id: "wasm-rows-lazy-where", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: "\t\t\tcg.if(dty(cg, op, dtype));\n\t\t\tbranchDepth++;\n\t\t\tgen(src[1]);\n\t\t\tcg.else();\n\t\t\tgen(src[2]);", replace: "\t\t\tcg.if(dty(cg, op, dtype));\n\t\t\tbranchDepth++;\n\t\t\tgen(src[2]);\n\t\t\tcg.else();\n\t\t\tgen(src[1]);", what: "a (scalar) row kernel's Where on a row-invariant mask takes the wrong side", only: "rowKernels" },
  { id: "wasm-rows-simd-where", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: "\t\t\tcg.if(cg.v128);\n\t\t\tbranchDepth++;\n\t\t\tgen(src[1]);\n\t\t\tcg.else();\n\t\t\tgen(src[2]);", replace: "\t\t\tcg.if(cg.v128);\n\t\t\tbranchDepth++;\n\t\t\tgen(src[2]);\n\t\t\tcg.else();\n\t\t\tgen(src[1]);", what: "a SIMD row's Where on a row-invariant mask takes the wrong side", only: "rowKernels" },
  { id: "wasm-rows-simd-step", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: "if (lane) cg.i32.const(s * lane), cg.i32.add();", replace: "if (lane) cg.i32.const(lane), cg.i32.add();", what: "a SIMD row's strided load steps one element per lane, not s", only: "rowKernels" },
  { id: "wasm-ksimd-max", file: "node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js", find: 'if (lane > 0) re.op === "Max" ? cg.f32.max() : re.op === "Min"', replace: 'if (lane > 0) re.op === "Max" ? cg.f32.min() : re.op === "Min"', what: "the SIMD row maximum combines its four lanes by min", only: "rowKernels" },
  { id: "checkpoint-b64-length", file: "src/train/checkpoint.ts", find: "    if (bytes !== n * BYTES[dtype]) throw", replace: "    if (false) throw", what: "a checkpoint leaf's bytes not checked against its shape" },
];

function run(m: Mutation): { killed: boolean; seconds: number; note: string } {
  const path = resolve(import.meta.dirname, "..", m.file);
  const original = readFileSync(path, "utf8");
  const n = original.split(m.find).length - 1;
  if (n !== 1) throw new Error(`${m.id}: the text to mutate occurs ${n} times in ${m.file}`);
  const restore = () => writeFileSync(path, original);
  const onSigint = () => {
    restore();
    process.exit(130);
  };
  process.once("SIGINT", onSigint);
  writeFileSync(path, original.replace(m.find, m.replace));
  const root = resolve(import.meta.dirname, "..");
  const rebuild = () => {
    const b = spawnSync(process.execPath, ["scripts/build-native.mjs"], { cwd: root, encoding: "utf8" });
    if (!/addon built/.test(b.stdout)) throw new Error(`${m.id}: the addon did not rebuild: ${b.stdout.trim()}`);
  };
  const t0 = performance.now();
  try {
    if (m.native) rebuild();
    const args = ["--import", "tsx", ...(m.pattern ? [`--test-name-pattern=${m.pattern}`] : []), "test/all.test.ts"];
    const r = spawnSync(process.execPath, args, { cwd: resolve(import.meta.dirname, ".."), env: { ...process.env, GENLAB_TEST_ONLY: m.only ?? UNIT, ...m.env }, encoding: "utf8", timeout: 600_000 });
    const fail = /^# fail (\d+)/m.exec(r.stdout ?? "")?.[1];
    const killed = r.status !== 0 || (fail !== undefined && fail !== "0");
    return { killed, seconds: (performance.now() - t0) / 1000, note: fail ? `${fail} failing` : `exit ${r.status ?? r.signal}` };
  } finally {
    restore();
    if (m.native) rebuild();
    process.off("SIGINT", onSigint);
  }
}

if (process.argv[1]?.endsWith("mutate.ts")) {
  const words = process.argv.slice(2);
  const list = words.length ? MUTATIONS.filter((m) => words.some((w) => m.id.includes(w))) : MUTATIONS;
  let killed = 0;
  for (const m of list) {
    const r = run(m);
    if (r.killed) killed++;
    process.stdout.write(`${r.killed ? "killed  " : "SURVIVED"}  ${m.id.padEnd(24)} ${r.note.padEnd(12)} ${r.seconds.toFixed(0).padStart(4)} s  ${m.what}\n`);
  }
  process.stdout.write(`\nmutation score: ${killed}/${list.length} killed (${((100 * killed) / list.length).toFixed(0)}%)\n`);
  process.exitCode = killed === list.length ? 0 : 1;
}
