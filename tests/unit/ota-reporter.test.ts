/*
 * The status reporter and the journal: the job id after a reboot is used once, final reports whose
 * publish failed are sent again after the reconnect, and the journal's write failures are typed.
 */
import assert from "node:assert/strict";
import {VirtualTimers} from "../../host/adapters/virtual-timers";
import {MemoryStore} from "../../host/adapters/key-value-store";
import {OtaJournal, OtaKeys} from "../../ota/journal";
import {OtaFailure} from "../../ota/outcome";
import {StatusReporter} from "../../ota/reporter";
import type {PublishDone} from "../../rainmaker/ports";
import {RecordingLog} from "../support/recording-log";

class FakePublisher {
	readonly sent: {payload: string; done?: PublishDone}[] = [];
	publish(_suffix: string, _rule: string, payload: string, done?: PublishDone): void {
		this.sent.push({payload, done});
	}
}

describe("status reporter and journal", () => {
	it("reports against the journal's job id once, then not at all", () => {
		const store = new MemoryStore();
		const log = new RecordingLog();
		const journal = new OtaJournal(store, log);
		store.set(OtaKeys.jobId, {type: "str", value: "job-7"});
		const publisher = new FakePublisher();
		const reporter = new StatusReporter(publisher, new VirtualTimers(), log, journal);
		reporter.report("success", "OTA Upgrade finished and verified successfully");
		reporter.report("success", "again");
		assert.equal(publisher.sent.length, 1);
		assert.equal(JSON.parse(publisher.sent[0].payload).ota_job_id, "job-7");
		assert.equal(store.get(OtaKeys.jobId), undefined);
		assert.ok(log.messages("warn").some(line => /no Job ID available/.test(line)));
	});

	it("sends a final report again after the reconnect when its publish failed; progress reports are not resent", () => {
		const publisher = new FakePublisher();
		const reporter = new StatusReporter(
			publisher,
			new VirtualTimers(),
			new RecordingLog(),
			new OtaJournal(new MemoryStore(), new RecordingLog()),
		);
		reporter.report("in-progress", "Downloading Firmware Image", "j");
		reporter.report("rejected", "Project Name mismatch", "j");
		publisher.sent[0].done?.(new Error("link down"));
		publisher.sent[1].done?.(new Error("link down"));
		reporter.resend();
		assert.equal(publisher.sent.length, 3);
		assert.equal(JSON.parse(publisher.sent[2].payload).status, "rejected");
		reporter.resend();
		assert.equal(publisher.sent.length, 3, "once");
	});

	it("a failed write that the update depends on is an OtaFailure naming the key; clean-up never throws", () => {
		const store = new MemoryStore();
		store.set = () => {
			throw new Error("ESP_ERR_NVS_NOT_ENOUGH_SPACE");
		};
		const log = new RecordingLog();
		const journal = new OtaJournal(store, log);
		assert.throws(
			() => journal.beginInstall("j"),
			(error: unknown) =>
				error instanceof OtaFailure &&
				error.failure.kind === "failed" &&
				/^Cannot save the OTA state \(rmaker_ota_id\): ESP_ERR_NVS_NOT_ENOUGH_SPACE$/.test(error.failure.text),
		);
		assert.throws(() => journal.checkpoint(4096), OtaFailure);
		store.delete = () => {
			throw new Error("flash error");
		};
		journal.clearResume();
		journal.endInstall();
		assert.ok(
			log.messages("warn").some(line => /Cannot erase the OTA state key ota_written: flash error/.test(line)),
		);
	});

	it("a checkpoint past file_size, or of another job or MD5, is never a resume point", () => {
		const store = new MemoryStore();
		const journal = new OtaJournal(store, new RecordingLog());
		const job = {jobId: "j", fileSize: 100_000, fileMd5: "0".repeat(32)};
		assert.equal(journal.resumePoint(job, 4096), 0);
		journal.checkpoint(8192);
		assert.equal(journal.resumePoint(job, 4096), 8192);
		assert.equal(journal.resumePoint({...job, fileMd5: "1".repeat(32)}, 4096), 0, "another MD5");
		journal.checkpoint(8192);
		assert.equal(
			journal.resumePoint({...job, fileMd5: "1".repeat(32), fileSize: 8192}, 4096),
			0,
			"at or past file_size",
		);
		assert.equal(store.get(OtaKeys.resumeOffset), undefined);
	});
});
