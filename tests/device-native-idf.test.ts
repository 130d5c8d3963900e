/*
 * The esp32 C (manifest.json platforms.esp32.ffi.sources) compiled as the Moddable SDK's esp32 build
 * compiles it, against ESP-IDF: scripts/check-idf.sh (docs/device.md, section 8). Runs when
 * MODDABLE (a Moddable SDK checkout), IDF_PATH (an ESP-IDF v6.0 tree) and riscv64-unknown-elf-gcc
 * (Debian's gcc-riscv64-unknown-elf + picolibc-riscv64-unknown-elf) are there; skipped, with the
 * reason printed, otherwise. The script's own prerequisite lines are checked without them.
 */
import {strict as assert} from "node:assert";
import {execFileSync, spawnSync} from "node:child_process";
import {existsSync} from "node:fs";
import {join} from "node:path";
import {fileURLToPath} from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const script = join(root, "scripts", "check-idf.sh");

function hasCommand(name: string): boolean {
	try {
		execFileSync("sh", ["-c", `command -v ${name}`], {stdio: "ignore"});
		return true;
	}
	catch {
		return false;
	}
}

describe("esp32 C against ESP-IDF (scripts/check-idf.sh)", () => {
	it("names each missing prerequisite on a line of its own and exits 2", () => {
		const run = spawnSync("bash", [script], {
			encoding: "utf8",
			env: {PATH: process.env.PATH, IDF_PATH: "/nonexistent-idf", RISCV_GCC: "no-such-riscv-gcc"},
		});
		assert.equal(run.status, 2, run.stderr);
		const lines = run.stderr.trim().split("\n");
		assert.deepEqual(lines.map(line => line.replace(/:.*/, "")), ["check-idf", "check-idf", "check-idf"], run.stderr);
		assert.match(lines[0], /MODDABLE is not set/);
		assert.match(lines[1], /IDF_PATH=\/nonexistent-idf has no components\/app_update\/include\/esp_ota_ops\.h/);
		assert.match(lines[2], /no-such-riscv-gcc not found: apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf/);
	});

	it("compiles every esp32 C file with the SDK's include list and flags, for esp32c3 and esp32 (syntax), with no diagnostic", function () {
		const moddable = process.env.MODDABLE;
		const idf = process.env.IDF_PATH;
		const missing = [
			!moddable || !existsSync(join(moddable, "tools", "mcconfig", "make.esp32.mk")) ? "MODDABLE does not point at a Moddable SDK checkout" : "",
			!idf || !existsSync(join(idf, "components", "app_update")) ? "IDF_PATH does not point at an ESP-IDF v6.0 tree" : "",
			hasCommand("riscv64-unknown-elf-gcc") ? "" : "riscv64-unknown-elf-gcc is not installed",
		].filter(Boolean);
		if (missing.length) {
			console.log(`      skipped: ${missing.join("; ")} (docs/device.md, section 8)`);
			this.skip();
		}
		this.timeout(180_000);
		const run = spawnSync("bash", [script], {encoding: "utf8", env: process.env});
		assert.equal(run.status, 0, run.stdout + run.stderr);
		assert.equal(run.stderr, "", "no diagnostic");
		assert.match(run.stdout, /esp32c3: native\/otaplat_esp32\.c: compile with the SDK's include list and flags: ok/);
		assert.match(run.stdout, /esp32: native\/otaplat_esp32\.c: syntax check .* ok/);
		assert.doesNotMatch(run.stdout, /FAILED/);
	});
});
