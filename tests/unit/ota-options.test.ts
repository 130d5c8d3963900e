/*
 * The option table drives the docs table, the device settings and the simulator's flags.
 */
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {readSettings} from "../../device/settings";
import {parseNodeOptions} from "../../host/sim/node-options";
import {defaultOtaOptions, OptionError, OTA_OPTION_TABLE, optionsMarkdown, resolveOtaOptions} from "../../ota/options";

describe("the OTA option table", () => {
	it("docs/ota-lifecycle.md carries the generated table", () => {
		const doc = readFileSync(new URL("../../docs/ota-lifecycle.md", import.meta.url), "utf8");
		const table = /<!-- options-table:begin -->\n([\s\S]*?)\n<!-- options-table:end -->/.exec(doc);
		assert.ok(table, "markers in the doc");
		assert.equal(table[1], optionsMarkdown(), "regenerate with optionsMarkdown()");
	});

	it("every option: a default within its range, a flag and a manifest key of its own", () => {
		const flags = new Set<string>(),
			keys = new Set<string>();
		for (const spec of OTA_OPTION_TABLE) {
			assert.ok(!flags.has(spec.flag) && !keys.has(spec.manifestKey), spec.name);
			flags.add(spec.flag);
			keys.add(spec.manifestKey);
			assert.equal(defaultOtaOptions[spec.name], spec.default);
			if (spec.type === "integer")
				assert.ok(Number(spec.default) >= spec.min! && Number(spec.default) <= spec.max!, spec.name);
		}
	});

	it("device settings and simulator flags both reach every option, with the table's ranges", () => {
		// the stream's block size × blocks per request is checked together (≤ 128 KiB): the other one at its minimum
		const companions: {[name: string]: [string, string, number]} = {
			streamBlockSize: ["streamBlocksPerRequest", "stream-blocks", 1],
			streamBlocksPerRequest: ["streamBlockSize", "stream-block-size", 256],
		};
		const samples: {[name: string]: [string, string, RegExp, RegExp]} = {
			timezone: [
				"AEST-10AEDT,M10.1.0,M4.1.0/3",
				"CST",
				/config timezone: timezone "CST": the offset of standard time is missing/,
				/POSIX TZ string/,
			],
			transport: [
				"mqtt-stream",
				"ftp",
				/config transport: must be https or mqtt-stream, got "ftp"/,
				/transport: must be https or mqtt-stream/,
			],
		};
		for (const spec of OTA_OPTION_TABLE) {
			const sample = samples[spec.name];
			if (spec.type === "string") assert.ok(sample, `a sample value for ${spec.name}`);
			const value = spec.type === "boolean" ? !spec.default : spec.type === "string" ? sample[0] : spec.max!;
			const companion = companions[spec.name];
			const extraConfig = companion ? {[optionKey(companion[0])]: String(companion[2])} : {};
			const extraArgv = companion ? [`--${companion[1]}`, String(companion[2])] : [];
			const settings = readSettings({
				nodeId: "n",
				mqttHost: "h",
				[spec.manifestKey]: String(value),
				...extraConfig,
			});
			assert.equal(settings.ota[spec.name], value, `config ${spec.manifestKey}`);
			const argv =
				spec.type === "boolean"
					? [value ? `--${spec.flag}` : `--no-${spec.flag}`]
					: [`--${spec.flag}`, String(value)];
			assert.equal(
				parseNodeOptions(["--broker", "mqtt://x", ...argv, ...extraArgv], false).ota[spec.name],
				value,
				`--${spec.flag}`,
			);
			if (spec.type === "integer") {
				assert.throws(
					() => readSettings({nodeId: "n", mqttHost: "h", [spec.manifestKey]: String(spec.max! + 1)}),
					new RegExp(spec.manifestKey),
				);
				assert.throws(() => resolveOtaOptions({[spec.name]: spec.max! + 1}), OptionError);
			}
			if (spec.type === "string") {
				assert.throws(
					() => readSettings({nodeId: "n", mqttHost: "h", [spec.manifestKey]: sample[1]}),
					sample[2],
				);
				assert.throws(() => resolveOtaOptions({[spec.name]: sample[1]}), OptionError);
				assert.throws(
					() => parseNodeOptions(["--broker", "mqtt://x", `--${spec.flag}`, sample[1]], false),
					sample[3],
				);
			}
		}
	});

	it("refuses a stream block size × blocks per request over 128 KiB (the reference's #error), naming both", () => {
		assert.throws(
			() => resolveOtaOptions({streamBlockSize: 16384, streamBlocksPerRequest: 9}),
			/streamBlockSize × streamBlocksPerRequest must be at most 131072 bytes .* got 16384 × 9/,
		);
		assert.equal(resolveOtaOptions({streamBlockSize: 16384, streamBlocksPerRequest: 8}).streamBlocksPerRequest, 8);
	});
});

function optionKey(name: string): string {
	return OTA_OPTION_TABLE.find(spec => spec.name === name)!.manifestKey;
}
