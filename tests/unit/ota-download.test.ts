/*
 * Download rules on the device defaults: http:// refused unless allowHttp, https never redirected
 * to http, errors naming the host and port; and the node's platform from the build target.
 */
import assert from "node:assert/strict";
import {Download, hostAndPort, urlRefusal} from "../../ota/download";
import type {HttpHandlers} from "../../ota/ports";
import {startFirmware} from "../../ota/firmware";
import {HEADER_PROBE_LENGTH} from "../../ota/image";
import {MemoryStore} from "../../host/adapters/key-value-store";
import {VirtualTimers} from "../../host/adapters/virtual-timers";
import {createDigest} from "../../host/adapters/digest";
import type {BootControl, ImageState, UpdatePartition} from "../../ota/ports";
import {RecordingLog} from "../support/recording-log";
import {MemoryBroker} from "./support/memory-mqtt";
import {MemoryHttp} from "./support/memory-http";
import {jobFor, SimNode, V1, V2} from "./support/sim-node";

describe("a Download starts only when asked (issue 22 item 5)", () => {
	it("the constructor sends nothing and arms no timer; start() sends the one request, a second start() nothing", () => {
		const timers = new VirtualTimers();
		const gets: string[] = [];
		const http = {
			get(url: string, _headers: ReadonlyArray<readonly [string, string]>, _handlers: HttpHandlers) {
				gets.push(url);
				return {abort() {}};
			},
		};
		const ended: unknown[] = [];
		const sink = {
			onStart: () => undefined,
			onData: () => undefined,
			onEnd: (failure?: unknown) => ended.push(failure),
		};
		const download = new Download(
			http,
			timers,
			"https://ota.example.com/fw.bin",
			{offset: 0, stallMs: 1000, deadlineMs: 5000, allowHttp: false},
			sink,
		);
		timers.advance(10_000);
		assert.deepEqual(gets, []);
		assert.deepEqual(ended, [], "no stall or deadline before start");
		download.start();
		download.start();
		assert.deepEqual(gets, ["https://ota.example.com/fw.bin"]);
	});
});

describe("download URL rules", () => {
	it("hostAndPort fills in the default ports", () => {
		assert.equal(hostAndPort("https://ota.example.com/fw.bin"), "ota.example.com:443");
		assert.equal(hostAndPort("http://user@10.0.0.2:8080/x"), "10.0.0.2:8080");
		assert.equal(hostAndPort("http://[::1]:99/x"), "[::1]:99");
		assert.equal(hostAndPort("ftp://x/y"), "");
	});

	it("refuses http:// unless allowed, and http after https always", () => {
		assert.equal(urlRefusal("https://a/b", false), undefined);
		assert.match(urlRefusal("http://a/b", false)!, /plain HTTP firmware URL \(allowHttp is off\)/);
		assert.equal(urlRefusal("http://a/b", true), undefined);
		assert.match(urlRefusal("http://a/b", true, "https://a/c")!, /redirect from https to http/);
		assert.match(urlRefusal("file:///etc/passwd", true)!, /unsupported URL/);
	});
});

describe("download through the node", () => {
	let node: SimNode | undefined;
	afterEach(() => {
		node?.close();
		node = undefined;
	});

	it("the device default refuses an http:// firmware URL when the otaurl arrives: failed with the reason, never offered, nothing requested", () => {
		node = new SimNode({ota: {allowHttp: false, maxAttempts: 1}});
		node.powerOn();
		node.job = jobFor(node, "job-http", V2, "2.0.0");
		node.command("check");
		node.until(() => node!.last("job-http") !== undefined, "the report");
		assert.equal(node.last("job-http")!.status, "failed");
		assert.match(
			node.last("job-http")!.additional_info,
			/^Aborted\. URL refused: refusing the plain HTTP firmware URL \(allowHttp is off\)/,
		);
		assert.equal(node.firmware!.ota.offer, undefined);
		assert.deepEqual(
			node.infos().filter(info => JSON.stringify(info) !== "{}"),
			[],
		);
		assert.equal(node.http.requests.length, 0);
	});

	for (const [url, why] of [
		["ftp://cloud.test/fw.bin", /unsupported URL "ftp:\/\/cloud.test\/fw.bin": a firmware URL must be https:\/\//],
		["https://", /no host in URL/],
		["http://127.0.0.1:99999/fw.bin", /bad port in URL/],
		["http://[::1/fw.bin", /bad IPv6 host in URL/],
	] as const)
		it(`refuses ${url} once, when the otaurl is parsed: reported failed, never offered (issue 22 item 3)`, () => {
			node = new SimNode();
			node.powerOn();
			node.job = {...jobFor(node, "job-bad-url", V2, "2.0.0"), url};
			node.command("check");
			node.until(() => node!.last("job-bad-url") !== undefined, "the report");
			assert.deepEqual(
				node
					.statuses()
					.filter(status => status.ota_job_id === "job-bad-url")
					.map(status => status.status),
				["failed"],
			);
			assert.match(node.last("job-bad-url")!.additional_info, /^Aborted\. URL refused: /);
			assert.match(node.last("job-bad-url")!.additional_info, why);
			assert.equal(node.firmware!.ota.offer, undefined);
			assert.equal(node.firmware!.ota.state, "idle");
		});

	it("a failed transfer names the host and port", () => {
		node = new SimNode({ota: {maxAttempts: 1}});
		node.powerOn();
		const job = jobFor(node, "job-cut", V2, "2.0.0", {url: "http://ota.test:8070/fw.bin"});
		node.http.serve(job.url, {body: V2, cutAfter: 10_000});
		node.offerAndApprove(job);
		node.until(() => node!.firmware!.ota.state === "idle", "the end of the job");
		assert.equal(
			node.last("job-cut")!.additional_info,
			"OTA Attempt 1/1 failed: connection closed before the body was complete (ota.test:8070)",
		);
	});
});

describe("node config platform", () => {
	it("comes from the platform adapter (BootControl.platform), else the running image's chip, never a constant", () => {
		for (const [platform, expected] of [
			["esp32c3", "esp32c3"],
			[undefined, "esp32"],
		] as const) {
			const timers = new VirtualTimers();
			const broker = new MemoryBroker(timers);
			const boot: BootControl = {
				platform,
				runningState: (): ImageState => "valid",
				runningHeader: () => V1.subarray(0, HEADER_PROBE_LENGTH),
				chipRevision: () => 0,
				minSecureVersion: () => 0,
				markValid() {},
				rollback() {},
				restart() {},
			};
			const partition: UpdatePartition = {
				capacity: 0,
				written: 0,
				begin: () => 0,
				write() {},
				end() {},
				abort() {},
			};
			const firmware = startFirmware(
				{
					session: broker.session("p1"),
					timers,
					log: new RecordingLog(),
					store: new MemoryStore(),
					http: new MemoryHttp(timers),
					partition,
					boot,
					createDigest,
				},
				{nodeId: "p1", ota: {autofetch: false}},
			);
			timers.advance(0);
			const config = JSON.parse(broker.on("node/p1/config")[0].payload) as {info: {platform: string}};
			assert.equal(config.info.platform, expected);
			firmware.stop();
		}
	});
});
