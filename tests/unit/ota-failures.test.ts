/*
 * The failures of issue 11, each through the simulated node (real firmware and update engine on
 * the host flash model, in-memory MQTT and HTTP, virtual clock). Every one of them wedged or
 * misled the node before the lifecycle rework; every one must end in a reported state with the
 * node still working.
 */
import assert from "node:assert/strict";
import {HostDevice} from "../../host/adapters/host-device";
import {HostHttpClient} from "../../host/adapters/http-client";
import {buildAppImage} from "../../host/tools/app-image";
import {OtaKeys} from "../../ota/journal";
import {finishInstall, jobFor, md5, SimNode, V1, V2, V3} from "./support/sim-node";

let node: SimNode | undefined;
afterEach(() => {
	node?.close();
	node = undefined;
});

describe("OTA failures end in a reported state (issue 11)", () => {
	it("installs a clean job end to end on the fast lane (the harness itself)", () => {
		node = new SimNode();
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-ok", V2, "2.0.0"));
		finishInstall(node, "job-ok");
		assert.equal(node.boots.at(-1)?.info.version, "2.0.0");
		assert.equal(node.firmware?.ota.state, "idle");
	});

	describe("1. a URL the HTTP client cannot parse, a store that fails during the download", () => {
		// URLs with a bad port, host or no host are refused when the otaurl is parsed (tests/unit/ota-download.test.ts)
		for (const url of ["http://%zz/fw.bin"]) {
			it(`${url}: every attempt fails and is reported, then the node takes commands again`, () => {
				node = new SimNode();
				node.httpClient = new HostHttpClient(); // the real client: it throws on these URLs
				node.powerOn();
				node.offerAndApprove({ota_job_id: "job-url", url, fw_version: "2.0.0", file_size: V2.length});
				node.until(() => node!.firmware!.ota.state === "idle", "the job to end");
				const texts = node.texts("job-url");
				assert.match(texts.at(-1)!, /^failed: OTA Attempt 3\/3 failed: cannot request/);
				assert.equal(texts.filter(text => text.startsWith("failed: ")).length, 3);
				assert.deepEqual(node.infos().at(-1), {});
				assert.deepEqual(node.command("check"), ["Checking for OTA updates."]);
				assert.equal(node.store.get(OtaKeys.jobId), undefined, "no job id left behind");
			});
		}

		it("a store write failing at a download checkpoint fails the attempt with the reason, nothing wedges", () => {
			node = new SimNode({ota: {maxAttempts: 2}});
			node.powerOn();
			node.offerAndApprove(jobFor(node, "job-nvs", V2, "2.0.0"));
			node.store.failSet = key => key === OtaKeys.resumeOffset;
			node.until(() => node!.firmware!.ota.state === "idle", "the job to end");
			assert.match(
				node.last("job-nvs")!.additional_info,
				/^OTA Attempt 2\/2 failed: Cannot save the OTA state \(ota_written\): ESP_ERR_NVS_NOT_ENOUGH_SPACE/,
			);
			node.store.failSet = undefined;
			assert.deepEqual(node.command("check"), ["Checking for OTA updates."]);
			node.until(() => node!.firmware?.ota.offer?.jobId === "job-nvs", "offered again");
			node.command("start");
			finishInstall(node, "job-nvs");
		});
	});

	describe("2. a body longer than file_size, a 416", () => {
		it("never writes past file_size, never saves a checkpoint beyond it, and the next attempt installs", () => {
			node = new SimNode();
			node.powerOn();
			const job = jobFor(node, "job-long", V2, "2.0.0");
			node.http.serve(job.url, {body: V2, chunked: true, extra: 200_000, ranges: true});
			const checkpoints: number[] = [];
			const inner = node.store.inner;
			const set = inner.set.bind(inner);
			inner.set = (key, value) => {
				if (key === OtaKeys.resumeOffset) {
					assert.equal(value.type, "u16", "the reference's type: u16 KiB");
					checkpoints.push(Number(value.value) * 1024);
				}
				set(key, value);
			};
			node.offerAndApprove(job);
			node.until(() => node!.firmware!.ota.state === "idle", "the job to end");
			const failures = node.texts("job-long").filter(text => text.startsWith("failed"));
			assert.equal(failures.length, 3);
			for (const failure of failures) assert.match(failure, /more data than file_size \(150336 bytes\)/);
			assert.ok(
				checkpoints.length > 0 && checkpoints.every(offset => offset <= V2.length),
				`checkpoints ${checkpoints}`,
			);
			node.http.serve(job.url, {body: V2}); // the server is fixed; the node fetches again after the retry delay
			node.until(() => node!.firmware!.ota.state === "offered", "offered again");
			node.command("start");
			finishInstall(node, "job-long");
			assert.ok(
				checkpoints.every(offset => offset <= V2.length),
				`checkpoints ${checkpoints}`,
			);
		});

		it("a 416 answer to the resume drops the checkpoint and downloads from byte 0", () => {
			node = new SimNode();
			node.powerOn();
			const job = jobFor(node, "job-416", V2, "2.0.0");
			node.http.serve(job.url, {body: V2, cutAfter: 100_000});
			node.offerAndApprove(job);
			node.until(
				() => node!.texts("job-416").some(text => text.startsWith("failed: OTA Attempt 1/3")),
				"the cut attempt",
			);
			assert.ok(node.http.requests.length >= 1);
			finishInstall(node, "job-416");
			// Now a checkpoint the server refuses (416): the node drops it and starts from byte 0.
			const job3 = jobFor(node, "job-416b", V3, "3.0.0");
			node.http.serve(job3.url, {body: V3, rangeRefused: true});
			node.store.set(OtaKeys.resumeOffset, {type: "u16", value: 8});
			node.store.set(OtaKeys.resumeJob, {type: "str", value: "job-416b"});
			node.store.set(OtaKeys.resumeMd5, {type: "str", value: job3.file_md5!});
			const requests = node.http.requests.length;
			node.offerAndApprove(job3);
			finishInstall(node, "job-416b");
			assert.equal(node.boots.at(-1)?.info.version, "3.0.0");
			assert.deepEqual(
				node.http.requests.slice(requests).map(request => request.range),
				["bytes=8192-", undefined],
			);
			assert.ok(
				!node.texts("job-416b").some(text => text.startsWith("failed")),
				node.texts("job-416b").join("\n"),
			);
		});
	});

	describe("3. integrity across a resume; https never redirects to http", () => {
		it("checks file_md5 over the whole image of a resumed transfer: another image is never installed", () => {
			node = new SimNode();
			node.powerOn();
			const job = jobFor(node, "job-md5", V2, "2.0.0");
			const other = buildAppImage({version: "2.0.0", payloadSize: 150_000, secureVersion: 1});
			assert.equal(other.length, V2.length);
			assert.notEqual(md5(other), job.file_md5);
			node.http.serve(job.url, {body: other, cutAfter: 100_000});
			node.offerAndApprove(job);
			node.until(() => node!.firmware!.ota.state === "idle" || node!.restarts > 0, "the job to end");
			assert.equal(node.restarts, 0, "nothing installed");
			const texts = node.texts("job-md5");
			assert.ok(
				node.log.messages().some(line => /Resuming the download at byte \d+/.test(line)),
				"the second attempt resumed",
			);
			assert.match(
				texts.find(text => text.startsWith("failed: OTA Attempt 2/3"))!,
				/MD5 mismatch/,
			);
			assert.equal(node.device!.otadata.bootSlot(2), 0, "the boot choice is unchanged");
		});

		it("refuses a redirect from https to http", () => {
			node = new SimNode();
			node.powerOn();
			node.http.serve("https://cloud.test/fw.bin", {status: 302, location: "http://cloud.test/fw.bin"});
			node.http.serve("http://cloud.test/fw.bin", {body: V2});
			node.offerAndApprove({
				ota_job_id: "job-redir",
				url: "https://cloud.test/fw.bin",
				fw_version: "2.0.0",
				file_size: V2.length,
			});
			node.until(() => node!.firmware!.ota.state === "idle", "the job to end");
			assert.match(node.last("job-redir")!.additional_info, /refusing the redirect from https to http/);
			assert.ok(node.http.requests.every(request => request.url.startsWith("https:")));
		});
	});

	it("4. the approval binds the version (and size, MD5): the same job id naming another version is offered again, not installed", () => {
		node = new SimNode();
		node.powerOn();
		const job = jobFor(node, "job-bind", V2, "2.0.0");
		node.offerAndApprove(job);
		node.job = jobFor(node, "job-bind", V3, "3.0.0"); // swapped before the node fetches again
		node.until(() => node!.firmware!.ota.state === "offered", "offered again");
		assert.equal(node.http.requests.length, 0, "nothing downloaded");
		assert.deepEqual(node.infos().at(-1), {job_id: "job-bind", fw_version: "3.0.0", file_size: V3.length});
		assert.equal(node.last("job-bind")?.status, "delayed");
		// The same id and version with another MD5 is not the approved job either.
		node.command("start");
		node.job = {...node.job, file_md5: md5(V2)};
		node.until(() => node!.firmware!.ota.state === "offered", "offered again");
		assert.equal(node.http.requests.length, 0);
	});

	describe("5. a power cut in the first boot of the new image", () => {
		it("the new image never ran (its otadata entry erased): failed 'interrupted', the version is offered again", () => {
			node = new SimNode();
			node.powerOn();
			node.offerAndApprove(jobFor(node, "job-cut", V2, "2.0.0"));
			node.until(() => node!.restarts > 0, "the reboot request");
			node.powerOff();
			// The bootloader erased the NEW entry's sector to mark it PENDING_VERIFY, and the power went.
			const {HostDevice} = require_device();
			const device = HostDevice.open({flashFile: node.dir + "/flash.bin", sync: false});
			const entries = device.otadata.read();
			const fresh = entries[0].seq > entries[1].seq ? 0 : 1;
			device.otadata.partition.erase(fresh * 4096, 4096);
			device.close();
			node.powerOn();
			assert.equal(node.boots.at(-1)?.info.version, "1.0.0");
			node.until(() => node!.texts("job-cut").some(text => text.startsWith("failed")), "the report");
			assert.match(
				node.texts("job-cut").find(text => text.startsWith("failed"))!,
				/^failed: Update to 2\.0\.0 interrupted: the new firmware never started/,
			);
			assert.ok(!node.texts("job-cut").some(text => text.startsWith("rejected")));
			assert.equal(node.firmware!.guard.rolledBackVersion, undefined, "the version is not blocked");
			node.until(() => node!.firmware?.ota.offer?.jobId === "job-cut", "offered again on the node's own check");
		});

		it("a real rollback (the new image never reached MQTT) still reports rejected 'Firmware rolled back'", () => {
			node = new SimNode({ota: {rollbackWaitSeconds: 30}});
			node.powerOn();
			node.offerAndApprove(jobFor(node, "job-rb", V2, "2.0.0"));
			node.until(() => node!.restarts > 0, "the reboot request");
			node.powerOff();
			const restartsBefore = node.restarts;
			// The new image boots but never reaches MQTT: it rolls itself back after rollbackWaitSeconds.
			node.broker.reachable = false;
			node.powerOn();
			assert.equal(node.firmware!.ota.state, "pending-verify");
			node.until(() => node!.restarts > restartsBefore, "the rollback", 60_000);
			node.broker.reachable = true;
			node.powerOff();
			node.powerOn();
			assert.equal(node.boots.at(-1)?.info.version, "1.0.0");
			node.until(() => node!.last("job-rb")?.status === "rejected", "the report");
			assert.equal(node.last("job-rb")!.additional_info, "Firmware rolled back");
			assert.equal(node.firmware!.guard.rolledBackVersion, "2.0.0");
		});
	});

	describe("the rollback clock starts at app start, before the network (docs/protocol.md §5.11)", () => {
		/** Installs 2.0.0 and stops at the reboot into it. */
		function installed(wait: number): SimNode {
			const sim = new SimNode({ota: {rollbackWaitSeconds: wait}});
			sim.powerOn();
			sim.offerAndApprove(jobFor(sim, "job-net", V2, "2.0.0"));
			sim.until(() => sim.restarts > 0, "the reboot request");
			sim.powerOff();
			return sim;
		}

		it("a new image that never joins Wi-Fi (the firmware never starts, no broker) rolls back after rollbackWaitSeconds", () => {
			node = installed(30);
			const restartsBefore = node.restarts;
			node.broker.reachable = false;
			node.networkDelayMs = "never";
			node.powerOn();
			assert.equal(node.boots.at(-1)?.state, "pending-verify");
			assert.equal(node.firmware, undefined, "main() never ran");
			node.advance(29_999);
			assert.equal(node.restarts, restartsBefore, "no rollback before the wait");
			node.advance(1);
			assert.equal(node.restarts, restartsBefore + 1, "rolled back at 30 s after start-up");
			assert.ok(
				node.log
					.messages()
					.some(line =>
						/Could not verify firmware even after 30 seconds since boot-up\. Rolling back\./.test(line),
					),
			);
			// The old image reports the rollback once the broker is back.
			node.broker.reachable = true;
			node.networkDelayMs = 0;
			node.powerOff();
			node.powerOn();
			assert.equal(node.boots.at(-1)?.info.version, "1.0.0");
			node.until(() => node!.last("job-net")?.status === "rejected", "the report");
			assert.equal(node.last("job-net")!.additional_info, "Firmware rolled back");
		});

		it("the wait counts from start-up, not from when the network came up", () => {
			node = installed(30);
			const restartsBefore = node.restarts;
			node.broker.reachable = false;
			node.networkDelayMs = 20_000; // Wi-Fi and SNTP take 20 s; MQTT never connects
			node.powerOn();
			node.advance(20_000);
			assert.equal(node.firmware?.ota.state, "pending-verify", "the firmware started late");
			node.advance(9_999);
			assert.equal(node.restarts, restartsBefore);
			node.advance(1);
			assert.equal(node.restarts, restartsBefore + 1, "rolled back 30 s after start-up, not 50 s");
		});

		it("an image whose network comes up late but within the wait is confirmed, and the clock stops", () => {
			node = installed(30);
			const restartsBefore = node.restarts;
			node.networkDelayMs = 25_000;
			node.powerOn();
			node.until(() => node!.last("job-net")?.status === "success", "the success report", 30_000);
			assert.equal(node.rollbackClock?.running, false);
			node.advance(120_000);
			assert.equal(node.restarts, restartsBefore, "no rollback after the confirmation");
		});
	});

	it("6. a full store before the install: the failure is reported, Info cleared, the state consistent", () => {
		node = new SimNode();
		node.powerOn();
		const job = jobFor(node, "job-full", V2, "2.0.0");
		node.job = job;
		node.command("check");
		node.until(() => node!.firmware?.ota.offer?.jobId === "job-full", "the offer");
		node.store.failSet = () => true;
		node.command("start");
		node.until(() => node!.last("job-full")?.status === "failed", "the failure report");
		assert.match(
			node.last("job-full")!.additional_info,
			/^Cannot save the OTA state \(rmaker_ota_id\): ESP_ERR_NVS_NOT_ENOUGH_SPACE/,
		);
		assert.deepEqual(node.infos().at(-1), {});
		assert.equal(node.firmware!.ota.state, "idle");
		assert.equal(node.firmware!.ota.offer, undefined);
		assert.equal(node.http.requests.length, 0);
		node.store.failSet = undefined;
		node.command("check");
		node.until(() => node!.firmware?.ota.offer?.jobId === "job-full", "offered again");
	});

	it("7. a server sending 1 byte per 10 s: each attempt ends at its deadline, then a newer job is offered", () => {
		node = new SimNode({ota: {minDownloadRate: 1024}});
		node.powerOn();
		const job = jobFor(node, "job-slow", V2, "2.0.0");
		node.http.serve(job.url, {body: V2, chunk: 1, intervalMs: 10_000});
		node.offerAndApprove(job);
		const deadline = 30 + Math.ceil(V2.length / 1024);
		node.until(() => node!.firmware!.ota.state === "idle", "the job to end", 4 * deadline * 1000, 1000);
		assert.match(
			node.last("job-slow")!.additional_info,
			new RegExp(`^OTA Attempt 3/3 failed: download not complete within ${deadline} s`),
		);
		node.job = jobFor(node, "job-new", V3, "3.0.0");
		node.command("check");
		node.until(() => node!.firmware?.ota.offer?.jobId === "job-new", "the newer job offered");
	});

	describe("8. firmware.stop()", () => {
		it("ends the download", () => {
			node = new SimNode();
			node.powerOn();
			const job = jobFor(node, "job-stop", V2, "2.0.0");
			node.http.serve(job.url, {body: V2, chunk: 1024, intervalMs: 1000});
			node.offerAndApprove(job);
			node.until(
				() => node!.http.open === 1 && (node!.firmware!.engine.progress?.received ?? 0) > 0,
				"the download",
			);
			node.firmware!.stop();
			assert.equal(node.http.open, 0, "no open transfer");
			assert.deepEqual(node.timers.pending(), [], "no timer left");
		});

		it("ends the reboot timer", () => {
			node = new SimNode({ota: {rebootDelaySeconds: 10}});
			node.powerOn();
			node.offerAndApprove(jobFor(node, "job-stop2", V2, "2.0.0"));
			node.until(() => node!.firmware!.ota.state === "rebooting", "installed");
			node.firmware!.stop();
			node.advance(60_000);
			assert.equal(node.restarts, 0);
		});
	});
});

function require_device() {
	return {HostDevice};
}
void V1;
