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
import {createPrivateKey, generateKeyPairSync, X509Certificate} from "node:crypto";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {chip} from "./support/moddable/esp32-chip";
import {telnetServers} from "./support/moddable/telnet";
import {issueEcClient, makeTestPki, type TestPki} from "../host/pki";

const until = (condition: () => boolean, what: string, timeoutMs = 10_000) => waitUntil(condition, what, timeoutMs);

function setConfig(values: {[key: string]: unknown}): void {
	for (const key of Object.keys(config)) if (key !== "file") delete config[key];
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
		resetChip({running: new Uint8Array(fixtureBytes(image)), slotBytes: 0x1e0000});
		preferenceStorage.clear();
		const telnetPort = await freePort();
		// values as the mcconfig command line gives them: strings
		setConfig({
			nodeId: "main-node",
			mqttHost: "127.0.0.1",
			mqttPort: String(broker.port),
			mqttTls: "false",
			telnetPort: String(telnetPort),
			startupFetchDelaySeconds: "0",
		});
		await loadDevice("main", "start");

		const nodeConfig = await broker.waitFor(
			m => m.topic === "$aws/rules/esp_node_config/node/main-node/config",
			10_000,
		);
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
		assert.match(
			traceLines.find(line => line.includes("not started"))!,
			/config nodeId/,
		);
	});

	it("refuses the placeholder certificates with a pointer to certs/README.md", async () => {
		traceLines.length = 0;
		const {resources} = await import("./support/moddable/Resource");
		resources.set(
			"ca.der",
			new TextEncoder().encode("PLACEHOLDER: replace with the DER file described in certs/README.md\n"),
		);
		setConfig({nodeId: "tls-node", mqttHost: "127.0.0.1", caResource: "ca.der"});
		await loadDevice("main", "placeholder");
		await until(() => traceLines.some(line => line.includes("not started")), "the start-up error");
		assert.match(
			traceLines.find(line => line.includes("not started"))!,
			/"ca.der" is a placeholder.*certs\/README\.md/,
		);
	});

	it("opens no telnet console unless telnetPort is configured", async () => {
		resetChip({running: new Uint8Array(fixtureBytes("synthetic/app-1.0.0.bin")), slotBytes: 0x1e0000});
		const before = telnetServers.length;
		setConfig({
			nodeId: "quiet-node",
			mqttHost: "127.0.0.1",
			mqttPort: String(broker.port),
			mqttTls: "false",
			startupFetchDelaySeconds: "0",
		});
		await loadDevice("main", "no-telnet");
		await broker.waitFor(m => m.topic === "$aws/rules/esp_node_config/node/quiet-node/config", 10_000);
		assert.equal(telnetServers.length, before, "no listener was created");
	});

	describe("a claimed node: credentials from the fctry partition", () => {
		let dir: string;
		let pki: TestPki;
		let tlsBroker: TestBroker;

		before(async function () {
			this.timeout(180_000);
			dir = mkdtempSync(join(tmpdir(), "main-fctry-"));
			pki = makeTestPki(dir, "fctry-node-1");
			tlsBroker = await startBroker({
				tls: {key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert, requestCert: true},
			});
		});
		after(async () => {
			tlsBroker.dropClients();
			await tlsBroker.close();
			rmSync(dir, {recursive: true, force: true});
		});

		function claim(key: string): void {
			resetChip({running: new Uint8Array(fixtureBytes("synthetic/app-1.0.0.bin")), slotBytes: 0x1e0000});
			const text = (value: string) => new TextEncoder().encode(value);
			chip.fctry.set("node_id", text("fctry-node-1"));
			chip.fctry.set("mqtt_host", text("127.0.0.1"));
			chip.fctry.set("client_cert", text(pki.clientCert));
			chip.fctry.set("client_key", text(key));
		}

		it("connects over mutual TLS as the fctry node_id with its certificate and RSA PKCS#1 key (--key_type rsa)", async () => {
			claim(createPrivateKey(pki.clientKey).export({type: "pkcs1", format: "pem"}) as string);
			const {resources} = await import("./support/moddable/Resource");
			resources.set("local-ca.der", new X509Certificate(pki.caCert).raw);
			// nodeId in the config is the development fallback: the claim wins
			setConfig({
				nodeId: "config-node",
				mqttHost: "",
				mqttPort: String(tlsBroker.port),
				caResource: "local-ca.der",
				startupFetchDelaySeconds: "0",
			});
			await loadDevice("main", "fctry-rsa");
			const published = await tlsBroker.waitFor(
				m => m.topic === "$aws/rules/esp_node_config/node/fctry-node-1/config",
				20_000,
			);
			assert.equal(published.clientId, "fctry-node-1");
		});

		it("connects with an EC P-256 PKCS#8 key (the CLI's default)", async () => {
			const ec = issueEcClient(join(dir, "ec"), pki.paths, "fctry-node-1");
			assert.match(ec.key, /BEGIN PRIVATE KEY/);
			claim(ec.key);
			chip.fctry.set("client_cert", new TextEncoder().encode(ec.cert));
			setConfig({
				nodeId: "config-node",
				mqttHost: "",
				mqttPort: String(tlsBroker.port),
				caResource: "local-ca.der",
				startupFetchDelaySeconds: "0",
			});
			await loadDevice("main", "fctry-ec");
			const published = await tlsBroker.waitFor(
				m => m.topic === "$aws/rules/esp_node_config/node/fctry-node-1/config" && m.clientId === "fctry-node-1",
				20_000,
			);
			assert.equal(published.clientId, "fctry-node-1");
		});

		it("refuses an EC P-384 key at start-up, saying what to claim with", async () => {
			const {privateKey} = generateKeyPairSync("ec", {namedCurve: "P-384"});
			claim(privateKey.export({type: "pkcs8", format: "pem"}) as string);
			traceLines.length = 0;
			setConfig({mqttPort: String(tlsBroker.port), caResource: "local-ca.der"});
			await loadDevice("main", "fctry-p384");
			await until(() => traceLines.some(line => line.includes("not started")), "the start-up error");
			assert.match(
				traceLines.find(line => line.includes("not started"))!,
				/fctry client_key is an EC P-384 key: .*esp-rainmaker-cli claim.*--key_type rsa/,
			);
		});
	});
});
