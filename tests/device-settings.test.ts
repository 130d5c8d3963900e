/* device/settings.ts: mc/config values (strings when given on the mcconfig command line) to typed settings. */
import {strict as assert} from "node:assert";
import {loadDevice} from "./support/moddable-loader";
import {defaultOtaOptions} from "../ota/options";

type SettingsModule = {readSettings(source: {[key: string]: unknown}): {[key: string]: unknown}};

describe("device settings (mc/config)", () => {
	let readSettings: SettingsModule["readSettings"];
	const minimal = {nodeId: "node-1", mqttHost: "example.com"};

	before(async () => {
		({readSettings} = await loadDevice<SettingsModule>("settings"));
	});

	it("applies the defaults of the manifest: TLS on 8883, basic-ingest topics, telnet off, Amazon Root CA 1, no OTA overrides", () => {
		const settings = readSettings(minimal);
		assert.equal(settings.mqttPort, 8883);
		assert.equal(settings.mqttTls, true);
		assert.equal(settings.topicForm, "basic-ingest");
		assert.equal(settings.mqttKeepAliveSeconds, 120);
		assert.equal(settings.telnetPort, 0, "telnet only when configured");
		assert.equal(settings.telnetAddress, "");
		assert.equal(settings.caResource, "amazon-root-ca-1.der");
		assert.deepEqual(settings.downloadCaResources, [
			"amazon-root-ca-1.der",
			"amazon-root-ca-3.der",
			"amazon-root-ca-2.der",
			"amazon-root-ca-4.der",
			"starfield-services-root-g2.der",
		]);
		assert.equal(settings.serialConsole, false);
		assert.deepEqual(settings.ota, {});
	});

	it("parses command-line strings into numbers and booleans, OTA options under their OtaOptions names", () => {
		const settings = readSettings({
			...minimal,
			mqttPort: "443",
			mqttAlpn: "x-amzn-mqtt-ca",
			mqttTls: "true",
			serialConsole: "1",
			autofetch: "false",
			autofetchPeriodHours: "24",
			rollbackWaitSeconds: 120,
			skipVersionCheck: true,
			topicForm: "plain",
		});
		assert.equal(settings.mqttPort, 443);
		assert.equal(settings.mqttAlpn, "x-amzn-mqtt-ca");
		assert.equal(settings.serialConsole, true);
		assert.equal(settings.topicForm, "plain");
		assert.deepEqual(settings.ota, {
			autofetch: false,
			autofetchPeriodHours: 24,
			rollbackWaitSeconds: 120,
			skipVersionCheck: true,
		});
	});

	it("knows every OTA option of ota/options.ts", () => {
		const all: {[key: string]: unknown} = {...minimal};
		for (const [key, value] of Object.entries(defaultOtaOptions))
			all[key] = typeof value === "boolean" ? String(!value) : String(value);
		const ota = readSettings(all).ota as {[key: string]: unknown};
		assert.deepEqual(Object.keys(ota).sort(), Object.keys(defaultOtaOptions).sort());
	});

	it("names the key of a bad or missing value", () => {
		assert.throws(() => readSettings({mqttHost: "h"}), /config nodeId/);
		assert.throws(() => readSettings({nodeId: "n"}), /config mqttHost is empty/);
		assert.throws(
			() => readSettings({...minimal, mqttPort: "80a"}),
			/config mqttPort must be an integer within 0\.\.65535/,
		);
		assert.throws(() => readSettings({...minimal, mqttTls: "maybe"}), /config mqttTls must be true or false/);
		assert.throws(() => readSettings({...minimal, topicForm: "aws"}), /config topicForm/);
		assert.throws(() => readSettings({...minimal, maxAttempts: "three"}), /config maxAttempts/);
		assert.throws(() => readSettings({...minimal, nodeId: "bad id/with slash"}), /config nodeId/);
	});

	it("takes the transport's port when mqttPort is 0 or absent: 1883 without TLS, 8883 with it", () => {
		assert.equal(readSettings({...minimal, mqttTls: "false"}).mqttPort, 1883);
		assert.equal(readSettings({...minimal, mqttTls: "false", mqttPort: 0}).mqttPort, 1883);
		assert.equal(readSettings({...minimal, mqttPort: "0"}).mqttPort, 8883);
		assert.equal(readSettings({...minimal, mqttTls: "false", mqttPort: "18830"}).mqttPort, 18830);
	});
});
