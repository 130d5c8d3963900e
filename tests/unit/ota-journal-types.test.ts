/*
 * The OTA journal and esp-rainmaker's C firmware share the NVS namespace rmaker_ota
 * (docs/protocol.md §5.15): the keys the C firmware wrote before an update to this firmware are
 * read in their types, and this firmware writes them in those types for an update back to C.
 */
import {strict as assert} from "node:assert";
import {MemoryStore} from "../../host/adapters/key-value-store";
import {OtaJournal, OtaKeys} from "../../ota/journal";
import type {KeyValueStore, StoredValue} from "../../rainmaker/ports";
import {RecordingLog} from "../support/recording-log";
import {jobFor, SimNode, V2} from "./support/sim-node";

const ESP_OK = 0;
const ESP_ERR_NVS_NOT_FOUND = 0x1102;
const ESP_ERR_NVS_TYPE_MISMATCH = 0x1103;

/** What the C firmware's nvs_get_<type> answers for an entry of the store (nvs_page.cpp findItem). */
function cGet(
	store: KeyValueStore,
	key: string,
	type: StoredValue["type"],
): {err: number; value?: StoredValue["value"]} {
	const entry = store.get(key);
	if (!entry) return {err: ESP_ERR_NVS_NOT_FOUND};
	return entry.type === type ? {err: ESP_OK, value: entry.value} : {err: ESP_ERR_NVS_TYPE_MISMATCH};
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe("OTA state in esp-rainmaker's NVS types (docs/protocol.md §5.15)", () => {
	let node: SimNode | undefined;
	afterEach(() => {
		node?.close();
		node = undefined;
	});

	it("an update from the C firmware: the first boot reports success for the job id that firmware stored (blob), nothing throws", () => {
		node = new SimNode({ota: {rollbackWaitSeconds: 60}});
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-ts", V2, "2.0.0"));
		node.until(() => node!.restarts > 0, "the reboot request");
		node.powerOff();
		node.job = undefined; // the cloud's job is the C firmware's now
		// Replace the state by what esp_rmaker_ota_using_topics.c and esp_rmaker_ota.c leave behind.
		const store = node.store.inner;
		for (const key of Object.keys(store.entries())) store.delete(key);
		store.set("rmaker_ota_id", {type: "blob", value: bytes("job-from-c")}); // nvs_set_blob(..., strlen(id))
		store.set("ota_update", {type: "blob", value: Uint8Array.of(1)}); // nvs_set_blob(&ota_update, 1)
		store.set("ota_written", {type: "u16", value: 12}); // nvs_set_u16, KiB
		store.set("ota_file_md5", {type: "str", value: "f".repeat(32)});
		node.powerOn();
		assert.equal(node.boots.at(-1)?.state, "pending-verify");
		node.until(() => node!.last("job-from-c")?.status === "success", "the success report");
		assert.equal(node.last("job-from-c")!.additional_info, "OTA Upgrade finished and verified successfully");
		assert.notEqual(node.firmware!.ota.state, "pending-verify");
		assert.equal(store.get("rmaker_ota_id"), undefined, "the job id is used once");
		assert.equal(store.get("ota_update"), undefined, "the flag is erased once confirmed");
		assert.ok(!node.log.messages("error").length, node.log.messages("error").join("\n"));
	});

	it("an update to the C firmware: the job id and flag are blobs and the resume offset a u16 in KiB, as the C firmware reads them", () => {
		node = new SimNode();
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-to-c", V2, "2.0.0"));
		node.until(() => node!.restarts > 0, "the reboot request");
		const store = node.store.inner;
		const id = cGet(store, "rmaker_ota_id", "blob");
		assert.equal(id.err, ESP_OK);
		assert.equal(new TextDecoder().decode(id.value as Uint8Array), "job-to-c", "no NUL, as strlen");
		assert.deepEqual(cGet(store, "ota_update", "blob"), {err: ESP_OK, value: Uint8Array.of(1)});
		assert.equal(
			cGet(store, "rmaker_ota_id", "str").err,
			ESP_ERR_NVS_TYPE_MISMATCH,
			"a str would not be found by nvs_get_blob",
		);
	});

	it("an update to a C firmware built with ROLLBACK_REPORT_FAILED that rolls back: failed with its reason and job id", () => {
		node = new SimNode({ota: {rollbackWaitSeconds: 30}});
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-rf", V2, "2.0.0"));
		node.until(() => node!.restarts > 0, "the reboot request");
		node.powerOff();
		// The C image's esp_ota_rollback: job id copied to ota_fail_jid (str), reason stored, rmaker_ota_id erased.
		node.broker.reachable = false;
		node.powerOn();
		const store = node.store.inner;
		store.set("ota_fail_rsn", {type: "str", value: "MQTT did not connect within 30 seconds"});
		store.set("ota_fail_jid", {type: "str", value: "job-rf"});
		store.delete("rmaker_ota_id");
		node.until(() => node!.restarts > 1, "the rollback", 60_000);
		node.broker.reachable = true;
		node.powerOff();
		node.powerOn();
		assert.equal(node.boots.at(-1)?.info.version, "1.0.0");
		node.until(() => node!.last("job-rf")?.status === "failed", "the report");
		assert.equal(node.last("job-rf")!.additional_info, "MQTT did not connect within 30 seconds");
		assert.equal(store.get("ota_fail_jid"), undefined);
		assert.equal(store.get("ota_fail_rsn"), undefined);
	});

	it("a checkpoint is a u16 in KiB that C resumes from; an i32 offset of an earlier version of this firmware still resumes", () => {
		const store = new MemoryStore();
		const journal = new OtaJournal(store, new RecordingLog());
		const job = {jobId: "j", fileSize: 1_000_000, fileMd5: "0".repeat(32)};
		assert.equal(journal.resumePoint(job, 4096), 0);
		journal.checkpoint(16384);
		assert.deepEqual(cGet(store, "ota_written", "u16"), {err: ESP_OK, value: 16});
		assert.deepEqual(cGet(store, "ota_file_md5", "str"), {err: ESP_OK, value: "0".repeat(32)});
		assert.equal(journal.resumePoint(job, 4096), 16384);
		store.set(OtaKeys.resumeOffset, {type: "i32", value: 8192});
		assert.equal(journal.resumePoint(job, 4096), 8192);
	});

	it("a key of a type it does not take reads as absent, is logged once, and never throws", () => {
		const store = new MemoryStore();
		const log = new RecordingLog();
		const journal = new OtaJournal(store, log);
		store.set(OtaKeys.jobId, {type: "u16", value: 7});
		store.set(OtaKeys.resumeOffset, {type: "str", value: "x"});
		store.set(OtaKeys.newVersion, {type: "blob", value: bytes("2.0.0")});
		assert.equal(journal.jobId, undefined);
		assert.equal(journal.jobId, undefined);
		assert.equal(journal.pendingVersion, "");
		assert.equal(journal.resumePoint({jobId: "j", fileSize: 100_000}, 4096), 0);
		assert.deepEqual(log.messages("warn").filter(line => /rmaker_ota_id holds an NVS u16/.test(line)).length, 1);
		assert.ok(
			log
				.messages("warn")
				.some(line => /ota_written holds an NVS str, not a type it takes: read as absent/.test(line)),
		);
		assert.equal(journal.takeJobId(), undefined);
	});

	it("job ids in blobs: UTF-8 both ways, trailing NULs of a C buffer dropped", () => {
		const store = new MemoryStore();
		const journal = new OtaJournal(store, new RecordingLog());
		journal.beginInstall("jöb-€-😀");
		assert.deepEqual(store.get(OtaKeys.jobId), {type: "blob", value: bytes("jöb-€-😀")});
		assert.equal(journal.jobId, "jöb-€-😀");
		store.set(OtaKeys.jobId, {type: "blob", value: Uint8Array.of(...bytes("job-1"), 0, 0)});
		assert.equal(journal.jobId, "job-1");
	});
});
