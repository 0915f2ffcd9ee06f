/**
 * Says, in one visible line, that a group of tests is skipped and why. Where every service is
 * expected (CI sets `TESTS_REQUIRE_ALL=1`), a skip is a failure instead: a green run there means
 * every test ran.
 */
export function reportSkip(what: string, reason: string): void {
  const line = `SKIPPED: ${what}: ${reason}`;
  if (process.env.TESTS_REQUIRE_ALL === '1') throw new Error(`${line} (TESTS_REQUIRE_ALL=1 forbids skips)`);
  process.stderr.write(`${line}\n`);
}
