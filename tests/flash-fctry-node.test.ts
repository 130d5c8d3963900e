/*
 * A claimed node's fctry partition provisions the host simulator: `node --fctry <nvs.bin>` writes
 * the NVS image into the flash file's fctry partition, and the node takes its node id and its
 * client certificate and key from there to connect to the local cloud's mutual-TLS broker.
 */
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {makeTestPki, type TestPki} from "../host/pki";
import {HostDevice} from "../host/adapters/host-device";
import {superviseNode, type SupervisedNode} from "../host/sim/supervisor";
import {readFctry} from "../host/sim/fctry";
import {buildAppImage} from "../host/tools/app-image";
import {buildFctryImage} from "../host/tools/nvs-partition";

describe("host simulator: claim data from the fctry partition (--fctry)", function () {
	this.timeout(60_000);
	let dir: string;
	let pki: TestPki;
	let cloud: Cloud;
	let node: SupervisedNode | undefined;

	before(async function () {
		dir = mkdtempSync(join(tmpdir(), "fctry-node-"));
		pki = makeTestPki(join(dir, "pki"), "claimed-node-7");
		cloud = await startCloud({tls: {key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert}});
	});

	after(async function () {
		node?.stop();
		await node?.stopped;
		await cloud.close();
		rmSync(dir, {recursive: true, force: true});
	});

	it("connects over mutual TLS as the claimed node id with the fctry certificate and key", async function () {
		const nvs = join(dir, "claimed.bin");
		writeFileSync(
			nvs,
			buildFctryImage({
				nodeId: "claimed-node-7",
				mqttHost: "127.0.0.1",
				clientCert: pki.clientCert,
				clientKey: pki.clientKey,
				random: "0a0b0c",
			}),
		);
		const image = join(dir, "fw.bin");
		writeFileSync(image, buildAppImage({version: "1.0.0"}));
		const lines: string[] = [];
		const config = cloud.waitFor("config", event => event.nodeId === "claimed-node-7", 30_000);
		node = superviseNode(
			[
				"--broker",
				cloud.mqttsUrl!,
				"--ca",
				pki.paths.caCert,
				"--fctry",
				nvs,
				"--flash-dir",
				join(dir, "flash"),
				"--image",
				image,
				"--no-autofetch",
			],
			line => lines.push(line),
		);
		const event = await config.catch(error => {
			throw new Error(`${(error as Error).message}\n${lines.join("\n")}`);
		});
		assert.equal(event.config.node_id as string, "claimed-node-7");
		assert.ok(
			lines.some(line => /fctry partition provisioned/.test(line)),
			lines.join("\n"),
		);
		node.stop();
		await node.stopped;
		node = undefined;
		// the partition keeps the claim data for later boots
		const device = HostDevice.open({flashFile: join(dir, "flash", "flash.bin")});
		try {
			const claimed = readFctry(device);
			assert.equal(claimed?.nodeId, "claimed-node-7");
			assert.equal(claimed?.clientKey, readFileSync(pki.paths.clientKey, "utf8"));
		} finally {
			device.close();
		}
	});

	it("refuses an fctry image that is not whole NVS pages, with the size in the error", async function () {
		const bad = join(dir, "bad.bin");
		writeFileSync(bad, new Uint8Array(100));
		const image = join(dir, "fw.bin");
		writeFileSync(image, buildAppImage({version: "1.0.0"}));
		const lines: string[] = [];
		const run = superviseNode(["--fctry", bad, "--flash-dir", join(dir, "flash2"), "--image", image], line =>
			lines.push(line),
		);
		assert.equal(await run.stopped, 1);
		assert.match(lines.join("\n"), /fctry image of 100 bytes/);
	});
});
