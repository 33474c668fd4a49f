// The suite's numbers are pinned on the Wasm backend (fixtures, Node = browser, bit-for-bit resumes):
// unless told otherwise it runs there, and test/native.test.ts runs the numeric tests again on the
// native backend in a child process. Imported first by test/all.test.ts (before the shim reads it).
process.env.GENLAB_BACKEND ??= "wasm";
