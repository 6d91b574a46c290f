// Matching time of registration rule patterns on RE2 (re2js) for long inputs: median of 15 runs per case.
// Run: node scripts/bench-patterns.mjs (figures quoted in docs/testing.md). Not a test: timings are never asserted.
import { RE2JS } from "re2js";
const pats = ["^(a|aa){100}$", "^(a+){40}$", "^a*a*a*a*a*a*a*a*$", "^[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*@corp\\.com$", "^[^<>]*$", "^[A-Za-z' -]+$"];
const inputs = { "10KB a": "a".repeat(10240), "10KB a + !": "a".repeat(10240) + "!", "64KB a": "a".repeat(65536) };
for (const p of pats) {
  const re = RE2JS.compile(p);
  const row = [p.padEnd(50)];
  for (const [n, input] of Object.entries(inputs)) {
    re.test(input); // warm
    const times = [];
    for (let i = 0; i < 15; i++) { const t = performance.now(); re.test(input); times.push(performance.now() - t); }
    times.sort((a, b) => a - b);
    row.push(`${n}: ${times[7].toFixed(2)} ms`);
  }
  console.log(row.join("  "));
}
