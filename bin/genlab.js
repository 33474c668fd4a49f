#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader (no build step: `npm ci` is enough).
import { register } from "tsx/esm/api";
register();
await import("../src/cli/entry.ts");
