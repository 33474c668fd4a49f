import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { pairedTTestGreater, regularizedBeta, studentTCdf } from "./special.ts";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe("Student's t (core/special.ts)", () => {
  it("the incomplete beta and the t CDF against closed forms and table values", () => {
    close(regularizedBeta(0.3, 1, 1), 0.3, 1e-12, "I_x(1, 1) = x");
    close(regularizedBeta(0.3, 2, 1), 0.09, 1e-12, "I_x(2, 1) = x²");
    close(regularizedBeta(0.7, 3, 5), 1 - regularizedBeta(0.3, 5, 3), 1e-12, "symmetry");
    // df = 1 is Cauchy: F(t) = ½ + atan(t)/π; df = 2: F(t) = ½ + t / (2√(2 + t²))
    close(studentTCdf(1.7, 1), 0.5 + Math.atan(1.7) / Math.PI, 1e-12, "Cauchy");
    close(studentTCdf(-0.8, 2), 0.5 - 0.8 / (2 * Math.sqrt(2.64)), 1e-12, "df 2");
    // t tables: t_{0.90, 4} = 1.533, t_{0.95, 4} = 2.132, t_{0.975, 10} = 2.228 (4 significant digits)
    close(studentTCdf(1.533, 4), 0.9, 2e-4, "t_{0.90, 4}");
    close(studentTCdf(2.132, 4), 0.95, 2e-4, "t_{0.95, 4}");
    close(studentTCdf(2.228, 10), 0.975, 2e-4, "t_{0.975, 10}");
  });

  it("the one-sided paired t-test", () => {
    const r = pairedTTestGreater([0.01, 0.02, 0.0, 0.015, 0.005]);
    close(r.mean, 0.01, 1e-15, "mean");
    close(r.t, 0.01 / (Math.sqrt(0.00025 / 4) / Math.sqrt(5)), 1e-9, "t (Σ(d − mean)² = 2.5e-4)");
    close(r.p, 1 - studentTCdf(r.t, 4), 1e-15, "p");
    assert.ok(r.p < 0.05, `a consistent gain is significant: p = ${r.p}`);
    assert.ok(pairedTTestGreater([-0.01, 0.01, -0.02, 0.0]).p > 0.5, "a loss on average is not");
    assert.throws(() => pairedTTestGreater([0.1]), /at least 2 pairs/);
  });
});
