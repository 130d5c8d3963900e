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
		for (const spec of OTA_OPTION_TABLE) {
			const value =
				spec.type === "boolean"
					? !spec.default
					: spec.type === "string"
						? "AEST-10AEDT,M10.1.0,M4.1.0/3"
						: spec.max!;
			const settings = readSettings({nodeId: "n", mqttHost: "h", [spec.manifestKey]: String(value)});
			assert.equal(settings.ota[spec.name], value, `config ${spec.manifestKey}`);
			const argv =
				spec.type === "boolean"
					? [value ? `--${spec.flag}` : `--no-${spec.flag}`]
					: [`--${spec.flag}`, String(value)];
			assert.equal(
				parseNodeOptions(["--broker", "mqtt://x", ...argv], false).ota[spec.name],
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
					() => readSettings({nodeId: "n", mqttHost: "h", [spec.manifestKey]: "CST"}),
					new RegExp(`config ${spec.manifestKey}: timezone "CST": the offset of standard time is missing`),
				);
				assert.throws(() => resolveOtaOptions({[spec.name]: "CST6CDT,M3.2"}), OptionError);
				assert.throws(
					() => parseNodeOptions(["--broker", "mqtt://x", `--${spec.flag}`, "Europe/Berlin"], false),
					/POSIX TZ string/,
				);
			}
		}
	});
});
