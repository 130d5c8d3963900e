import assert from "node:assert/strict";
import {Device, Node, Param, CONFIG_VERSION} from "../../rainmaker/model";
import type {NodeInfo} from "../../rainmaker/model";
import {seedOtaService, seedNodeInfo} from "../support/seed-node";
import {requireSharedFixtures, sharedSeedText} from "../support/shared-fixtures";

/** The JSON text of the seed between two headings (the FAQ prints its JSON examples as plain text). */
function seedJson(after: string, before: string): unknown {
	const seedText = sharedSeedText();
	const start = seedText.indexOf(after);
	const end = seedText.indexOf(before, start);
	assert.ok(start >= 0 && end > start, `seed sections ${after} / ${before} not found`);
	const section = seedText.slice(start + after.length, end);
	return JSON.parse(section.slice(section.indexOf("{"), section.lastIndexOf("}") + 1));
}

/** Compares every field of `expected` with `actual`, naming the path of the first difference. */
function assertFields(actual: unknown, expected: unknown, path: string): void {
	if (Array.isArray(expected)) {
		assert.ok(Array.isArray(actual), `${path}: expected an array, got ${JSON.stringify(actual)}`);
		assert.equal(actual.length, expected.length, `${path}: length`);
		expected.forEach((item, index) => assertFields(actual[index], item, `${path}[${index}]`));
	} else if (typeof expected === "object" && expected !== null) {
		assert.ok(
			typeof actual === "object" && actual !== null && !Array.isArray(actual),
			`${path}: expected an object`,
		);
		assert.deepEqual(Object.keys(actual), Object.keys(expected), `${path}: keys and their order`);
		for (const key of Object.keys(expected))
			assertFields(
				(actual as {[key: string]: unknown})[key],
				(expected as {[key: string]: unknown})[key],
				`${path}.${key}`,
			);
	} else assert.equal(actual, expected, path);
}

describe("rainmaker model", () => {
	describe("against the seed FAQ's JSON (cross-check lane: the FAQ text, tests/support/shared-fixtures.ts)", () => {
		let seedConfig: {[key: string]: unknown};
		let seedParams: {OTA: {[key: string]: unknown}};
		before(function () {
			requireSharedFixtures(this);
			seedConfig = seedJson("Node Configuration JSON", "Node Parameters JSON") as {[key: string]: unknown};
			seedParams = seedJson("Initial State", "When Update Available") as {OTA: {[key: string]: unknown}};
		});

		function seedNode(): Node {
			const node = new Node("node-seed-1", seedNodeInfo());
			node.addDevice(seedOtaService());
			return node;
		}

		it("generates the seed's config: devices [] and the OTA service, field by field", () => {
			const config = seedNode().configJson() as {[key: string]: unknown};
			assert.equal(config.node_id, "node-seed-1");
			assert.equal(seedConfig.node_id, "<node-id>");
			assert.equal(config.config_version, seedConfig.config_version);
			assertFields(config.devices, seedConfig.devices, "devices");
			assertFields(config.services, seedConfig.services, "services");
			// The seed leaves out info; everything else of the seed is present, in the reference's key order.
			assert.deepEqual(Object.keys(config), ["node_id", "config_version", "info", "devices", "services"]);
			assert.deepEqual(Object.keys(seedConfig), ["node_id", "config_version", "devices", "services"]);
		});

		it("generates the seed's initial params, with Info as an object", () => {
			const params = seedNode().paramsJson();
			assert.deepEqual(Object.keys(params), Object.keys(seedParams));
			assert.deepEqual(Object.keys(params.OTA), Object.keys(seedParams.OTA));
			assert.equal(params.OTA.Operation, seedParams.OTA.Operation);
			// The seed writes Info as the string "{}" here; the param's data_type is object, so the object is published.
			assert.equal(seedParams.OTA.Info, "{}");
			assert.deepEqual(params.OTA.Info, JSON.parse(seedParams.OTA.Info as string));
			assert.equal(JSON.stringify(params), '{"OTA":{"Operation":"","Info":{}}}');
		});
	});

	describe("node config (docs/protocol.md §6.4)", () => {
		const info: NodeInfo = {
			name: "Lamp",
			fw_version: "1.2.3",
			type: "Lightbulb",
			project_name: "rainmaker_ota_xs",
			platform: "esp32",
		};

		it("emits info in the reference's key order, with model defaulting to project_name", () => {
			const config = new Node("n1", info).configJson() as {info: {[key: string]: string}};
			assert.deepEqual(Object.keys(config.info), [
				"name",
				"fw_version",
				"type",
				"model",
				"project_name",
				"platform",
			]);
			assert.equal(config.info.model, "rainmaker_ota_xs");
			const full = new Node("n1", {
				...info,
				subtype: "sub",
				readme: "https://example.invalid/readme",
				model: "LampModel",
			}).configJson() as {info: {[key: string]: string}};
			assert.deepEqual(Object.keys(full.info), [
				"name",
				"fw_version",
				"type",
				"subtype",
				"readme",
				"model",
				"project_name",
				"platform",
			]);
			assert.equal(full.info.model, "LampModel");
		});

		it("omits attributes, devices and services when there are none", () => {
			const config = new Node("n1", info).configJson();
			assert.deepEqual(Object.keys(config), ["node_id", "config_version", "info"]);
			assert.equal((config as {config_version: string}).config_version, "2020-03-20");
			assert.equal(CONFIG_VERSION, "2020-03-20");
		});

		it("emits both devices and services when only a device exists, and node attributes when set", () => {
			const node = new Node("n1", info);
			node.addAttribute("cmd-resp", "1");
			const device = node.addDevice(
				new Device("Switch", "esp.device.switch", {
					primary: "Power",
					subtype: "s",
					model: "m",
					attributes: [{name: "serial", value: "42"}],
				}),
			);
			device.addParam({
				name: "Power",
				type: "esp.param.power",
				dataType: "bool",
				properties: ["write", "read"],
				value: false,
				uiType: "esp.ui.toggle",
			});
			assert.equal(
				JSON.stringify(node.configJson()),
				JSON.stringify({
					node_id: "n1",
					config_version: "2020-03-20",
					info: {
						name: "Lamp",
						fw_version: "1.2.3",
						type: "Lightbulb",
						model: "rainmaker_ota_xs",
						project_name: "rainmaker_ota_xs",
						platform: "esp32",
					},
					attributes: [{name: "cmd-resp", value: "1"}],
					devices: [
						{
							name: "Switch",
							type: "esp.device.switch",
							subtype: "s",
							model: "m",
							attributes: [{name: "serial", value: "42"}],
							primary: "Power",
							params: [
								{
									name: "Power",
									type: "esp.param.power",
									data_type: "bool",
									properties: ["read", "write"],
									ui_type: "esp.ui.toggle",
								},
							],
						},
					],
					services: [],
				}),
			);
		});

		it("writes bounds with step only when non-zero, valid_strs and ui_type only when set", () => {
			const device = new Device("Light", "esp.device.lightbulb");
			device.addParam({
				name: "Brightness",
				dataType: "int",
				properties: ["read", "write"],
				value: 10,
				bounds: {min: 0, max: 100, step: 0},
			});
			device.addParam({
				name: "Hue",
				dataType: "int",
				properties: ["read", "write", "time_series"],
				value: 10,
				bounds: {min: 0, max: 360, step: 5},
				uiType: "esp.ui.hue-slider",
			});
			device.addParam({
				name: "Mode",
				dataType: "string",
				properties: ["read", "write"],
				value: "a",
				validStrs: ["a", "b"],
			});
			const params = (device.configJson() as {params: object[]}).params;
			assert.deepEqual(params[0], {
				name: "Brightness",
				data_type: "int",
				properties: ["read", "write"],
				bounds: {min: 0, max: 100},
			});
			assert.deepEqual(params[1], {
				name: "Hue",
				data_type: "int",
				properties: ["read", "write", "time_series"],
				bounds: {min: 0, max: 360, step: 5},
				ui_type: "esp.ui.hue-slider",
			});
			assert.deepEqual(Object.keys(params[2]), ["name", "data_type", "properties", "valid_strs"]);
			assert.deepEqual(Object.keys(device.configJson()), ["name", "type", "params"]);
		});

		it("refuses duplicates and invalid specs at construction", () => {
			const node = new Node("n1", info);
			node.addDevice(new Device("A", "t"));
			assert.throws(() => node.addDevice(new Device("A", "t2", {service: true})), /exists already/);
			node.addAttribute("x", "1");
			assert.throws(() => node.addAttribute("x", "2"), /exists already/);
			const device = new Device("D", "t");
			device.addParam({name: "P", dataType: "int", properties: ["read"], value: 1});
			assert.throws(
				() => device.addParam({name: "P", dataType: "int", properties: ["read"], value: 1}),
				/exists already/,
			);
			assert.throws(
				() => device.addParam({name: "Q", dataType: "int", properties: ["read"], value: "1"}),
				/initial value: expected int, got string/,
			);
			assert.throws(
				() =>
					device.addParam({
						name: "R",
						dataType: "string",
						properties: ["read"],
						value: "",
						bounds: {min: 0, max: 1},
					}),
				/bounds need data type int or float/,
			);
			assert.throws(
				() => device.addParam({name: "S", dataType: "int", properties: ["read"], value: 1, validStrs: ["a"]}),
				/valid_strs need data type string/,
			);
			assert.throws(
				() =>
					device.addParam({
						name: "T",
						dataType: "int",
						properties: ["read"],
						value: 1,
						bounds: {min: 5, max: 1},
					}),
				/min 5 > max 1/,
			);
			assert.throws(() => new Node("a/b", info), /free of/);
			assert.throws(() => new Node("", info), /non-empty/);
			assert.deepEqual(
				device.params.map(param => param.name),
				["P"],
			);
		});
	});

	describe("Param.check", () => {
		const cases: Array<[string, ConstructorParameters<typeof Param>[0], unknown, string | undefined]> = [
			["bool ok", {name: "p", dataType: "bool", properties: ["write"], value: false}, true, undefined],
			[
				"bool vs int",
				{name: "p", dataType: "bool", properties: ["write"], value: false},
				1,
				"expected bool, got int",
			],
			[
				"int vs string",
				{name: "p", dataType: "int", properties: ["write"], value: 0},
				"5",
				"expected int, got string",
			],
			[
				"int vs float",
				{name: "p", dataType: "int", properties: ["write"], value: 0},
				2.5,
				"expected int, got float",
			],
			[
				"int above bounds",
				{name: "p", dataType: "int", properties: ["write"], value: 0, bounds: {min: 0, max: 100}},
				120,
				"value 120 outside bounds 0..100",
			],
			[
				"int below bounds",
				{name: "p", dataType: "int", properties: ["write"], value: 0, bounds: {min: 0, max: 100}},
				-1,
				"value -1 outside bounds 0..100",
			],
			[
				"int at bound",
				{name: "p", dataType: "int", properties: ["write"], value: 0, bounds: {min: 0, max: 100}},
				100,
				undefined,
			],
			["float accepts an integer", {name: "p", dataType: "float", properties: ["write"], value: 0}, 3, undefined],
			[
				"float vs null",
				{name: "p", dataType: "float", properties: ["write"], value: 0},
				null,
				"expected float, got null",
			],
			[
				"string not valid",
				{name: "p", dataType: "string", properties: ["write"], value: "", validStrs: ["check", "start"]},
				"foo",
				'"foo" is not one of check, start',
			],
			[
				"string valid",
				{name: "p", dataType: "string", properties: ["write"], value: "", validStrs: ["check", "start"]},
				"start",
				undefined,
			],
			[
				"object vs array",
				{name: "p", dataType: "object", properties: ["write"], value: {}},
				[],
				"expected object, got array",
			],
			["object ok", {name: "p", dataType: "object", properties: ["write"], value: {}}, {a: 1}, undefined],
			[
				"array vs object",
				{name: "p", dataType: "array", properties: ["write"], value: []},
				{},
				"expected array, got object",
			],
		];
		for (const [title, spec, value, expected] of cases) {
			it(title, () => assert.equal(new Param(spec).check(value), expected));
		}
	});
});
