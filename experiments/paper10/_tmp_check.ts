import type { Json } from "../../src/declare/kit.ts";
import type { PathwayResults, PathwayRun } from "./pathways.ts";
declare const a: PathwayRun;
declare const b: PathwayResults;
export const j1: Json = a;
export const j2: Json = b;
