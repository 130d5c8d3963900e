import assert from "node:assert/strict";
import {startOtaRig, type OtaRig, FixtureBoot} from "./support/ota-rig";
import {MemoryStore} from "../host/adapters/key-value-store";
import {OtaKeys} from "../ota/journal";

const jobA = {
	ota_job_id: "job-A",
	url: "http://127.0.0.1:9/a.bin",
	fw_version: "2.0.0",
	file_size: 69712,
	file_md5: "0123456789abcdef0123456789abcdef",
};
const jobB = {ota_job_id: "job-B", url: "http://127.0.0.1:9/b.bin", fw_version: "2.1.0", file_size: 69712};

let rig: OtaRig;
afterEach(async () => {
	await rig?.close();
});

function lastStatus(r: OtaRig) {
	return r.statuses().at(-1);
}

/** Lets the node's own start-up fetch (5 s) happen and waits for the offer of `job`. */
async function offered(r: OtaRig, job: {ota_job_id: string}) {
	await r.until(
		() => r.statuses().some(s => s.ota_job_id === job.ota_job_id && s.status === "delayed"),
		`delayed for ${job.ota_job_id}`,
	);
}

describe("user-approval OTA over a real broker", () => {
	it("start-up autofetch offers the job: Info filled, delayed 'Waiting for Approval', nothing installed", async () => {
		rig = await startOtaRig();
		rig.offer = jobA;
		rig.timers.advance(4999);
		await rig.settled();
		assert.equal(rig.fetches(), 0, "no fetch before the 5 s start-up delay");
		rig.timers.advance(1);
		await offered(rig, jobA);
		const fetch = JSON.parse(rig.broker.messages.find(m => m.topic === "node/ota-node-1/otafetch")!.payload);
		assert.deepEqual(fetch, {node_id: "ota-node-1", fw_version: "1.0.0"});
		assert.deepEqual(lastStatus(rig), {
			ota_job_id: "job-A",
			status: "delayed",
			additional_info: "Waiting for Approval",
			ts: lastStatus(rig)!.ts,
		});
		await rig.until(() => rig.infos().length > 0, "Info report");
		assert.deepEqual(rig.infos(), [{job_id: "job-A", fw_version: "2.0.0", file_size: 69712}]);
		assert.equal(rig.installer.jobs.length, 0);
		assert.equal(rig.firmware.ota.offer?.jobId, "job-A");
	});

	it("autofetch off: no fetch at start-up", async () => {
		rig = await startOtaRig({ota: {autofetch: false}});
		rig.offer = jobA;
		rig.timers.advance(3600_000);
		await rig.settled();
		assert.equal(rig.fetches(), 0);
	});

	it("checks through the Operation param and through the console", async () => {
		rig = await startOtaRig({ota: {autofetch: false}});
		await rig.write(JSON.stringify({OTA: {Operation: "check"}}));
		await rig.until(() => rig.log.messages("info").some(m => m.includes("Operation=check")), "the write");
		rig.timers.advance(1000);
		await rig.until(
			() => rig.fetches() === 1 && !rig.firmware.fetcher.inFlight,
			"fetch after Operation=check, and its PUBACK",
		);
		const printed: string[] = [];
		assert.equal(
			rig.firmware.command("ota", ["check"], line => printed.push(line)),
			true,
		);
		assert.deepEqual(printed, ["Checking for OTA updates."]);
		rig.timers.advance(1000);
		await rig.until(() => rig.fetches() === 2, "fetch after ota check");
	});

	it("start fetches afresh and installs exactly the approved job, once; Info is cleared after", async () => {
		rig = await startOtaRig();
		rig.offer = jobA;
		rig.timers.advance(5000);
		await offered(rig, jobA);
		const fetchesBefore = rig.fetches();
		await rig.write(JSON.stringify({OTA: {Operation: "start"}}));
		await rig.until(() => rig.firmware.ota.approvedJobId === "job-A", "approval");
		assert.equal(rig.installer.jobs.length, 0, "nothing installed before the fresh fetch");
		rig.timers.advance(1000);
		await rig.until(() => rig.installer.jobs.length === 1, "install");
		assert.equal(rig.fetches(), fetchesBefore + 1);
		assert.equal(rig.installer.jobs[0].jobId, "job-A");
		assert.equal(rig.installer.jobs[0].url, jobA.url);
		// While it runs: otaurl dropped, check and start refused.
		await rig.broker.publish("node/ota-node-1/otaurl", JSON.stringify(jobB));
		await rig.until(
			() => rig.log.messages("warn").includes("OTA already in progress (installing). Please try later."),
			"drop while busy",
		);
		const printed: string[] = [];
		rig.firmware.command("ota", ["start"], line => printed.push(line));
		rig.firmware.command("ota", ["check"], line => printed.push(line));
		assert.deepEqual(printed, [
			"Error: 'start' refused: an OTA update is in progress.",
			"Error: 'check' refused: an OTA update is in progress.",
		]);
		rig.installer.finish("failed");
		await rig.until(() => rig.infos().length === 2, "Info cleared");
		assert.deepEqual(rig.infos()[1], {});
		// A second start needs a new offer: approval was single-use.
		const again: string[] = [];
		rig.firmware.command("ota", ["start"], line => again.push(line));
		assert.match(again[0], /^Error: No OTA update is offered/);
		assert.equal(rig.installer.jobs.length, 1);
	});

	it("approval of job A while the cloud now serves job B offers B and installs nothing", async () => {
		rig = await startOtaRig();
		rig.offer = jobA;
		rig.timers.advance(5000);
		await offered(rig, jobA);
		rig.offer = jobB;
		const printed: string[] = [];
		rig.firmware.command("ota", ["start"], line => printed.push(line));
		assert.deepEqual(printed, ["OTA job job-A (version 2.0.0) approved; fetching it."]);
		rig.timers.advance(1000);
		await offered(rig, jobB);
		assert.equal(rig.installer.jobs.length, 0);
		assert.equal(rig.firmware.ota.offer?.jobId, "job-B");
		assert.equal(rig.firmware.ota.approvedJobId, undefined);
		await rig.until(() => rig.infos().length === 2, "Info of B");
		assert.deepEqual(rig.infos()[1], {job_id: "job-B", fw_version: "2.1.0", file_size: 69712});
	});

	it("the same job served again keeps Info as is and reports delayed again", async () => {
		rig = await startOtaRig();
		rig.offer = jobA;
		rig.timers.advance(5000);
		await offered(rig, jobA);
		rig.firmware.command("ota", ["check"], () => {});
		rig.timers.advance(1000);
		await rig.until(() => rig.statuses().filter(s => s.status === "delayed").length === 2, "second delayed");
		await rig.settled();
		assert.equal(rig.infos().length, 1);
	});

	it("approval does not survive a reboot", async () => {
		const store = new MemoryStore();
		rig = await startOtaRig({store});
		rig.offer = jobA;
		rig.timers.advance(5000);
		await offered(rig, jobA);
		rig.firmware.command("ota", ["start"], () => {});
		assert.equal(rig.firmware.ota.approvedJobId, "job-A");
		await rig.close();
		rig = await startOtaRig({store, ota: {autofetch: false}});
		assert.equal(rig.firmware.ota.approvedJobId, undefined);
		await rig.broker.publish("node/ota-node-1/otaurl", JSON.stringify(jobA));
		await offered(rig, jobA);
		assert.equal(rig.installer.jobs.length, 0, "the job served after the reboot is offered, not installed");
	});

	it("start without an offer is refused; an unknown Operation value is refused by the model", async () => {
		rig = await startOtaRig({ota: {autofetch: false}});
		const printed: string[] = [];
		assert.equal(
			rig.firmware.command("ota", ["start"], line => printed.push(line)),
			true,
		);
		assert.deepEqual(printed, ["Error: No OTA update is offered, nothing to approve. Use 'ota check' first."]);
		await rig.write(JSON.stringify({OTA: {Operation: "install"}}));
		await rig.write(JSON.stringify({OTA: {Operation: "start"}}));
		await rig.until(
			() => rig.log.messages("warn").some(m => m.startsWith("Operation=start refused")),
			"refusal of the param write",
		);
		assert.ok(
			rig.log.messages("warn").some(m => m.includes("install")),
			"the invalid value is logged",
		);
		rig.timers.advance(10_000);
		await rig.settled();
		assert.equal(rig.fetches(), 0);
	});

	it("the console: usage and errors as in the seed, status lines", async () => {
		rig = await startOtaRig();
		const printed: string[] = [];
		rig.firmware.command("ota", [], line => printed.push(line));
		rig.firmware.command("ota", ["frobnicate"], line => printed.push(line));
		assert.deepEqual(printed, [
			"Error: Invalid arguments. Use 'ota check', 'ota start' or 'ota status'.",
			"Usage: ota <check|start|status>",
			"Error: Unknown argument: frobnicate. Use 'check', 'start' or 'status'.",
			"Usage: ota <check|start|status>",
		]);
		rig.offer = jobA;
		rig.timers.advance(5000);
		await offered(rig, jobA);
		const status: string[] = [];
		rig.firmware.command("ota", ["status"], line => status.push(line));
		assert.deepEqual(status, [
			"state: offered",
			"running: rainmaker-ota-xs 1.0.0",
			"offered: job job-A, version 2.0.0, 69712 bytes",
			"approval: waiting for the user ('ota start' or the app)",
			'last status: delayed "Waiting for Approval" (job job-A)',
		]);
		const help: string[] = [];
		assert.equal(
			rig.firmware.command("help", [], line => help.push(line)),
			false,
		);
		assert.equal(help.length, 3);
	});

	it("confirms a pending image on its first connection and reports success with the stored job id", async () => {
		const boot = new FixtureBoot();
		boot.state = "pending-verify";
		const store = new MemoryStore();
		store.set(OtaKeys.jobId, {type: "str", value: "job-0"});
		store.set(OtaKeys.updatePending, {type: "blob", value: Uint8Array.of(1)});
		rig = await startOtaRig({boot, store});
		await rig.until(() => rig.statuses().some(s => s.status === "success"), "success");
		assert.deepEqual(rig.statuses()[0], {
			ota_job_id: "job-0",
			status: "success",
			additional_info: "OTA Upgrade finished and verified successfully",
			ts: rig.statuses()[0].ts,
		});
		assert.deepEqual(boot.calls, ["markValid"]);
		assert.equal(store.get(OtaKeys.jobId), undefined);
	});
});

describe("final reports", () => {
	it("sends the success report again after a reconnect when the link dropped under it", async () => {
		const boot = new FixtureBoot();
		boot.state = "pending-verify";
		const store = new MemoryStore();
		store.set(OtaKeys.jobId, {type: "str", value: "job-9"});
		store.set(OtaKeys.updatePending, {type: "blob", value: Uint8Array.of(1)});
		let refused = 0;
		rig = await startOtaRig({
			boot,
			store,
			prepare: broker => {
				// The broker refuses the first otastatus and, as MQTT 3.1.1 brokers do, closes the connection.
				broker.aedes.authorizePublish = (client, packet, callback) => {
					if (packet.topic.endsWith("/otastatus") && refused++ === 0) return callback(new Error("not now"));
					callback(null);
				};
			},
		});
		await rig.until(() => rig.statuses().length === 1, "the success report, sent again");
		assert.equal(refused, 2);
		assert.deepEqual(
			rig.statuses().map(s => [s.ota_job_id, s.status]),
			[["job-9", "success"]],
		);
		assert.ok(rig.log.messages("info").includes('Sending otastatus "success" of job job-9 again'));
	});
});

describe("malformed otaurl messages", () => {
	const cases: [string, string, string | undefined][] = [
		["not JSON", "{", undefined],
		["empty", "", undefined],
		["a number", "42", undefined],
		["an array", "[]", undefined],
		["null", "null", undefined],
		["a string", '"job"', undefined],
		["no job id", JSON.stringify({url: "http://x/y"}), undefined],
		["job id a number", JSON.stringify({ota_job_id: 7, url: "http://x/y"}), undefined],
		["job id empty", JSON.stringify({ota_job_id: "", url: "http://x/y"}), undefined],
		["job id too long", JSON.stringify({ota_job_id: "j".repeat(64), url: "http://x/y"}), undefined],
		["no url", JSON.stringify({ota_job_id: "bad-1"}), "Aborted. URL not found in JSON"],
		["url a number", JSON.stringify({ota_job_id: "bad-2", url: 5}), "Aborted. URL not found in JSON"],
		["url empty", JSON.stringify({ota_job_id: "bad-3", url: ""}), "Aborted. URL not found in JSON"],
		["url null", JSON.stringify({ota_job_id: "bad-4", url: null}), "Aborted. URL not found in JSON"],
		["oversize", JSON.stringify({ota_job_id: "bad-5", url: "http://x/" + "a".repeat(5000)}), undefined],
		["truncated JSON", JSON.stringify(jobA).slice(0, 40), undefined],
	];
	for (const [name, payload, failure] of cases) {
		it(`${name}: ${failure ? `failed "${failure}"` : "logged, not reported"}; a normal offer still works`, async () => {
			rig = await startOtaRig({ota: {autofetch: false}});
			await rig.broker.publish("node/ota-node-1/otaurl", payload);
			if (failure) {
				await rig.until(() => rig.statuses().length === 1, "failed report");
				const report = rig.statuses()[0];
				assert.equal(report.status, "failed");
				assert.equal(report.additional_info, failure);
				assert.equal(report.ota_job_id, JSON.parse(payload).ota_job_id);
			} else {
				await rig.until(() => rig.log.messages("warn").some(m => m.startsWith("otaurl refused")), "refusal");
				assert.equal(rig.statuses().length, 0);
			}
			assert.equal(rig.firmware.ota.offer, undefined);
			const ota = rig.firmware.ota;
			rig.offer = jobA;
			rig.firmware.command("ota", ["check"], () => {});
			rig.timers.advance(1000);
			await offered(rig, jobA);
			assert.equal((ota.offer as {jobId: string} | undefined)?.jobId, "job-A");
		});
	}

	it("optional fields of the wrong type are ignored with a warning, as the reference ignores them", async () => {
		rig = await startOtaRig({ota: {autofetch: false}});
		await rig.broker.publish(
			"node/ota-node-1/otaurl",
			JSON.stringify({
				ota_job_id: "job-W",
				url: "http://x/y",
				file_size: "big",
				fw_version: 3,
				file_md5: "nothex",
				metadata: [1],
			}),
		);
		await offered(rig, {ota_job_id: "job-W"});
		assert.equal(rig.log.messages("warn").filter(m => m.startsWith("otaurl: ignoring")).length, 4);
		await rig.until(() => rig.infos().length === 1, "Info");
		assert.deepEqual(rig.infos()[0], {job_id: "job-W"});
	});
});

describe("periodic checks (virtual clock, real broker)", () => {
	it("autofetchPeriodHours 1 fetches every hour after the start-up fetch", async () => {
		rig = await startOtaRig({ota: {autofetchPeriodHours: 1}});
		rig.timers.advance(5000);
		await rig.until(() => rig.fetches() === 1 && !rig.firmware.fetcher.inFlight, "start-up fetch");
		for (let hour = 1; hour <= 3; hour++) {
			rig.timers.advance(3600_000 - (hour === 1 ? 5000 : 0) - 1);
			await rig.settled();
			assert.equal(rig.fetches(), hour, `no fetch before hour ${hour}`);
			rig.timers.advance(1);
			await rig.until(
				() => rig.fetches() === hour + 1 && !rig.firmware.fetcher.inFlight,
				`fetch of hour ${hour}`,
			);
		}
	});

	it("an autofetchPeriodHours outside 0..168 is a start-up error", async () => {
		await assert.rejects(
			startOtaRig({ota: {autofetchPeriodHours: 169}}),
			/autofetchPeriodHours must be within 0\.\.168, got 169/,
		);
		await assert.rejects(startOtaRig({ota: {autofetchPeriodHours: -1}}), /within 0\.\.168/);
		rig = undefined as unknown as OtaRig;
	});
});
