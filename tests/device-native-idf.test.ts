/*
 * The esp32 C (manifest.json platforms.esp32.ffi.sources) compiled as the Moddable SDK's esp32 build
 * compiles it, against ESP-IDF: scripts/check-idf.sh (docs/device.md, section 8). Runs when
 * MODDABLE (a Moddable SDK checkout), IDF_PATH (an ESP-IDF v6.0 tree) and riscv64-unknown-elf-gcc
 * (Debian's gcc-riscv64-unknown-elf + picolibc-riscv64-unknown-elf) are there; skipped, with the
 * reason printed, otherwise. The script's own prerequisite lines are checked without them.
 */
import {strict as assert} from "node:assert";
import {execFileSync, spawnSync} from "node:child_process";
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const script = join(root, "scripts", "check-idf.sh");
const generator = join(root, "scripts", "idf-sdkconfig.mjs");

function hasCommand(name: string): boolean {
	try {
		execFileSync("sh", ["-c", `command -v ${name}`], {stdio: "ignore"});
		return true;
	} catch {
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
		assert.deepEqual(
			lines.map(line => line.replace(/:.*/, "")),
			["check-idf", "check-idf", "check-idf"],
			run.stderr,
		);
		assert.match(lines[0], /MODDABLE is not set/);
		assert.match(lines[1], /IDF_PATH=\/nonexistent-idf has no components\/app_update\/include\/esp_ota_ops\.h/);
		assert.match(
			lines[2],
			/no-such-riscv-gcc not found: apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf/,
		);
	});

	it("compiles every esp32 C file with the SDK's include list and flags, for esp32c3 and esp32 (syntax), with no diagnostic", function () {
		const moddable = process.env.MODDABLE;
		const idf = process.env.IDF_PATH;
		const missing = [
			!moddable || !existsSync(join(moddable, "tools", "mcconfig", "make.esp32.mk"))
				? "MODDABLE does not point at a Moddable SDK checkout"
				: "",
			!idf || !existsSync(join(idf, "components", "app_update"))
				? "IDF_PATH does not point at an ESP-IDF v6.0 tree"
				: "",
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
		assert.match(
			run.stdout,
			/esp32c3: native\/otaplat_esp32\.c: compile with the SDK's include list and flags: ok/,
		);
		assert.match(run.stdout, /esp32: native\/otaplat_esp32\.c: syntax check .* ok/);
		assert.doesNotMatch(run.stdout, /FAILED/);
	});

	it("writes sdkconfig.h from the merged defaults, then Kconfig defaults: default-if, depends on, select, choices, the target", () => {
		const idf = mkdtempSync(join(tmpdir(), "idf-kconfig-"));
		try {
			const file = (path: string, text: string) => {
				mkdirSync(dirname(join(idf, path)), {recursive: true});
				writeFileSync(join(idf, path), text);
			};
			mkdirSync(join(idf, "components", "soc", "esp32"), {recursive: true});
			file(
				"components/soc/esp32c3/include/soc/Kconfig.soc_caps.in",
				"config SOC_CAP_A\n    bool\n    default y\n",
			);
			file("components/soc/esp32/include/soc/Kconfig.soc_caps.in", "config SOC_CAP_B\n    bool\n    default y\n");
			file(
				"Kconfig",
				[
					"config IDF_TARGET",
					"    string",
					'    default "$IDF_TARGET"',
					"config IDF_TARGET_ARCH_RISCV",
					"    bool",
					'    default "n"',
					"config IDF_TARGET_ESP32C3",
					"    bool",
					'    default "y" if IDF_TARGET="esp32c3"',
					"    select IDF_TARGET_ARCH_RISCV",
					"config IDF_TARGET_ESP32",
					"    bool",
					'    default "y" if IDF_TARGET="esp32"',
					"config OFFSET",
					"    hex",
					"    default 0x1000 if IDF_TARGET_ESP32",
					"    default 0x0",
					"config FEATURE",
					'    bool "feature"',
					"    help",
					"        default y",
					"",
					"config NEEDS_FEATURE",
					"    bool",
					"    default y",
					"    depends on FEATURE",
					"choice MODE",
					'    prompt "mode"',
					"    default MODE_B",
					"    config MODE_A",
					'        bool "a"',
					"    config MODE_B",
					'        bool "b"',
					"endchoice",
					"choice GUARDED",
					'    prompt "guarded"',
					"    default GUARDED_ON",
					"    depends on FEATURE",
					"    config GUARDED_ON",
					'        bool "on"',
					"endchoice",
					"config LEVEL",
					"    int",
					"    default 3 if MODE_A",
					"    default 5",
					"",
				].join("\n"),
			);
			const defaults = join(idf, "project.defaults");
			writeFileSync(defaults, "CONFIG_MODE_A=y\nCONFIG_OFFSET=0x2000\nCONFIG_FEATURE=n\n");
			const scan = join(idf, "scan.c");
			const names = [
				"IDF_TARGET",
				"IDF_TARGET_ARCH_RISCV",
				"IDF_TARGET_ESP32C3",
				"OFFSET",
				"FEATURE",
				"NEEDS_FEATURE",
				"MODE_A",
				"MODE_B",
				"GUARDED_ON",
				"LEVEL",
				"SOC_CAP_A",
				"SOC_CAP_B",
				"NOT_IN_KCONFIG",
			];
			writeFileSync(scan, names.map(name => `#if CONFIG_${name}\n#endif\n`).join(""));
			const run = (target: string, ...more: string[]) => {
				const out = join(idf, `${target}.h`);
				const result = spawnSync(
					process.execPath,
					[generator, "--idf", idf, "--target", target, "--out", out, "--scan", scan, ...more],
					{encoding: "utf8"},
				);
				assert.equal(result.status, 0, result.stderr);
				return {
					defines: readFileSync(out, "utf8")
						.split("\n")
						.filter(line => line.startsWith("#define")),
					stderr: result.stderr,
				};
			};
			const c3 = run("esp32c3", "--defaults", defaults);
			assert.deepEqual(c3.defines, [
				'#define CONFIG_IDF_TARGET "esp32c3"',
				"#define CONFIG_IDF_TARGET_ARCH_RISCV 1",
				"#define CONFIG_IDF_TARGET_ESP32C3 1",
				"#define CONFIG_LEVEL 3",
				"#define CONFIG_MODE_A 1",
				"#define CONFIG_OFFSET 0x2000",
				"#define CONFIG_SOC_CAP_A 1",
			]);
			assert.match(
				c3.stderr,
				/no Kconfig entry for esp32c3 \(left undefined\): CONFIG_NOT_IN_KCONFIG CONFIG_SOC_CAP_B/,
			);
			// FEATURE has no default (the "default y" is help text): off, and so is all that depends on it.
			assert.deepEqual(run("esp32").defines, [
				'#define CONFIG_IDF_TARGET "esp32"',
				"#define CONFIG_LEVEL 5",
				"#define CONFIG_MODE_B 1",
				"#define CONFIG_OFFSET 0x1000",
				"#define CONFIG_SOC_CAP_B 1",
			]);
			const featureOn = join(idf, "feature.defaults");
			writeFileSync(featureOn, "# a comment\nCONFIG_FEATURE=y\n");
			assert.deepEqual(run("esp32", "--defaults", featureOn).defines, [
				"#define CONFIG_FEATURE 1",
				"#define CONFIG_GUARDED_ON 1",
				'#define CONFIG_IDF_TARGET "esp32"',
				"#define CONFIG_LEVEL 5",
				"#define CONFIG_MODE_B 1",
				"#define CONFIG_NEEDS_FEATURE 1",
				"#define CONFIG_OFFSET 0x1000",
				"#define CONFIG_SOC_CAP_B 1",
			]);
		} finally {
			rmSync(idf, {recursive: true, force: true});
		}
	});
});
