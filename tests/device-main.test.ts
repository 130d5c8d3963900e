/*
 * main.ts end to end on the Moddable stand-ins: settings from mc/config, the running image from
 * the "running" partition, a real aedes broker on 127.0.0.1. The node must come up as the
 * reference does (basic-ingest config publish, otaurl subscription, otafetch) and answer console
 * commands over telnet; a configuration error must be reported, not crash (on an esp32 an
 * uncaught exception reboots the device).
 */
import {strict as assert} from "node:assert";
import {connect} from "node:net";
import {startBroker, type TestBroker} from "./support/broker";
import {loadDevice} from "./support/moddable-loader";
import {fixtureBytes, fixture} from "./support/image-fixtures";
import {resetChip} from "./support/moddable/esp32-chip";
import config from "./support/moddable/mc/config";
import {traceLines} from "./support/moddable/trace";
import {preferenceStorage} from "./support/moddable/preference";
import {freePort} from "./support/free-port";
import {waitUntil} from "./support/wait";


const until = (condition: () => boolean, what: string, timeoutMs = 10_000) => waitUntil(condition, what, timeoutMs);

function setConfig(values: {[key: string]: unknown}): void {
	for (const key of Object.keys(config))
		if (key !== "file")
			delete config[key];
	Object.assign(config, values);
}

describe("main.ts on the Moddable stand-ins with a real broker", () => {
	let broker: TestBroker;

	before(async () => {
		broker = await startBroker();
	});
	after(async () => {
		broker.dropClients();
		await broker.close();
	});

	it("starts the node: config on the basic-ingest topic, otaurl subscription, otafetch, telnet console", async () => {
		const image = "synthetic/app-1.0.0.bin";
		resetChip({running: new Uint8Array(fixtureBytes(image)), slotBytes: 0x1E0000});
		preferenceStorage.clear();
		const telnetPort = await freePort();
		// values as the mcconfig command line gives them: strings
		setConfig({nodeId: "main-node", mqttHost: "127.0.0.1", mqttPort: String(broker.port), mqttTls: "false",
			telnetPort: String(telnetPort), startupFetchDelaySeconds: "0"});
		await loadDevice("main", "start");

		const nodeConfig = await broker.waitFor(m => m.topic === "$aws/rules/esp_node_config/node/main-node/config", 10_000);
		const info = (JSON.parse(nodeConfig.payload) as {info: {fw_version: string; project_name?: string}}).info;
		assert.equal(info.fw_version, fixture(image).version);
		assert.equal(nodeConfig.clientId, "main-node");
		await broker.waitForSubscription("node/main-node/otaurl", 1, 10_000);
		await broker.waitFor(m => m.topic === "$aws/rules/esp_node_otafetch/node/main-node/otafetch", 10_000);

		const output = await new Promise<string>((resolve, reject) => {
			const socket = connect(telnetPort, "127.0.0.1");
			let text = "";
			socket.on("data", data => {
				text += data.toString();
				if (text.includes("> ")) {
					socket.end();
					resolve(text);
				}
			});
			socket.on("error", reject);
			socket.on("connect", () => socket.write("help\r\n"));
		});
		assert.match(output, /ota/i, "the firmware's help lines are there");
	});

	it("reports a configuration error through trace and starts nothing", async () => {
		traceLines.length = 0;
		setConfig({nodeId: "", mqttHost: "127.0.0.1"});
		await loadDevice("main", "bad-config");
		await until(() => traceLines.some(line => line.includes("not started")), "the start-up error");
		assert.match(traceLines.find(line => line.includes("not started"))!, /config nodeId/);
	});

	it("refuses the placeholder certificates with a pointer to certs/README.md", async () => {
		traceLines.length = 0;
		const {resources} = await import("./support/moddable/Resource");
		resources.set("ca.der", new TextEncoder().encode("PLACEHOLDER: replace with the DER file described in certs/README.md\n"));
		setConfig({nodeId: "tls-node", mqttHost: "127.0.0.1", telnetPort: "0"});
		await loadDevice("main", "placeholder");
		await until(() => traceLines.some(line => line.includes("not started")), "the start-up error");
		assert.match(traceLines.find(line => line.includes("not started"))!, /"ca.der" is a placeholder.*certs\/README\.md/);
	});
});
