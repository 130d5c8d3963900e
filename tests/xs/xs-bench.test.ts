/*
 * The benchmarks still run (CI runs them once, in quick mode, through this test): `npm run bench
 * -- --quick` exits 0 and prints its table with a measured value in every row, the 16 KB
 * TLS-record row included. No timing is asserted; the verdicts are the benchmark's report (a full
 * run exits 1 on an "over"), not this test's.
 */
import assert from "node:assert/strict";
import {execFile} from "node:child_process";
import {fileURLToPath} from "node:url";
import {promisify} from "node:util";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("benchmarks (quick mode)", function () {
	this.timeout(120000);

	it("npm run bench -- --quick prints the table of benchmarks 1 and 2", async () => {
		const {stdout} = await promisify(execFile)(process.execPath, ["--import", "tsx", "bench/run.ts", "--quick"], {
			cwd: ROOT,
			maxBuffer: 1 << 20,
		});
		const rows = stdout.split("\n").filter(line => line.startsWith("| ") && !line.startsWith("| benchmark"));
		const row = (prefix: string) => rows.filter(line => line.startsWith(`| ${prefix}`));
		assert.equal(
			row("1. XS heap, live peak above idle").filter(
				line => !line.includes("16 KB TLS records") && !line.includes("example switch"),
			).length,
			2,
			stdout,
		);
		assert.equal(
			row("1. XS heap, live peak above idle").filter(line => line.includes("16 KB TLS records")).length,
			1,
			stdout,
		);
		assert.equal(row("1. XS heap growth above idle").length, 2, stdout);
		// the example product (docs/product.md): what it adds at idle, and the peak with it
		assert.equal(row("1. XS heap at idle, the example switch").length, 1, stdout);
		assert.equal(row("1. XS heap, live peak above idle").filter(line => line.includes("example switch")).length, 1);
		assert.equal(row("2. XS compute per MB, pipeline").length, 2, stdout);
		assert.equal(
			row("2. XS compute per MB, SHA-256 in JS (yardstick)").length,
			1,
			"the yardstick's digest matched node:crypto",
		);
		assert.equal(row("7. cloud RSS after").length, 1, stdout);
		assert.equal(row("8. cloud REST median").length, 1, stdout);
		for (const line of rows) {
			const result = line.split("|")[2].trim();
			assert.match(result, /^[\d,.]+( KB| MiB| s| ms)?( \(ESP32 slots: [\d.]+ KB\))?$/, line);
		}
	});
});
