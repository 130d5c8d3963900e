import assert from "node:assert/strict";
import {resolveLocation} from "../../ota/download";
import {MAX_STATUS_PAYLOAD, StatusText, statusPayload} from "../../ota/status";

describe("otastatus payload", () => {
	const bytes = (text: string) => Buffer.byteLength(text, "utf8");

	it("has the reference's keys and order, and is left alone when it fits", () => {
		const payload = statusPayload("job-1", "delayed", StatusText.waitingForApproval, 1767225600);
		assert.equal(
			payload,
			'{"ota_job_id":"job-1","status":"delayed","additional_info":"Waiting for Approval","ts":1767225600}',
		);
	});

	const cases: [string, string][] = [
		["a long ASCII reason", StatusText.attemptFailed(3, 3, "OTA failed: " + "x".repeat(300))],
		["two-byte characters", "é".repeat(200)],
		["three-byte characters", "€".repeat(200)],
		["surrogate pairs", "😀".repeat(120)],
		["characters JSON escapes", '"\\\n'.repeat(100)],
	];
	for (const [what, info] of cases) {
		it(`cuts additional_info with ${what} to fit ${MAX_STATUS_PAYLOAD} bytes as valid JSON`, () => {
			const payload = statusPayload("job_1234567890ab", "failed", info, 1767225600);
			assert.ok(bytes(payload) <= MAX_STATUS_PAYLOAD, `${bytes(payload)} bytes`);
			const parsed = JSON.parse(payload);
			assert.equal(parsed.ota_job_id, "job_1234567890ab");
			assert.ok(info.startsWith(parsed.additional_info), "a prefix of the text");
			assert.ok(!/[\uD800-\uDBFF]$/.test(parsed.additional_info), "no lone high surrogate");
			const longer = statusPayload(
				"job_1234567890ab",
				"failed",
				info.slice(0, parsed.additional_info.length + 2),
				1767225600,
			);
			assert.ok(bytes(longer) > MAX_STATUS_PAYLOAD || longer === payload, "the longest prefix that fits");
		});
	}

	it("keeps the reference's texts", () => {
		assert.equal(StatusText.starting(1, 3), "Starting OTA Upgrade (HTTPS attempt 1/3)");
		assert.equal(StatusText.rebooting(1), "Rebooting into new firmware (after 1 HTTPS attempt)");
		assert.equal(StatusText.rebooting(2), "Rebooting into new firmware (after 2 HTTPS attempts)");
		assert.equal(StatusText.downloaded(40), "Downloaded 40% Firmware Image");
		assert.equal(
			StatusText.attemptFailed(2, 3, "Image validation failed"),
			"OTA Attempt 2/3 failed: Image validation failed",
		);
	});
});

describe("redirect targets", () => {
	const base = "https://cdn.example.com/fw/v2/image.bin?sig=1";
	for (const [location, expected] of [
		["http://other.example.com/a.bin", "http://other.example.com/a.bin"],
		["//mirror.example.com/b.bin", "https://mirror.example.com/b.bin"],
		["/c.bin", "https://cdn.example.com/c.bin"],
		["d.bin", "https://cdn.example.com/fw/v2/d.bin"],
		["../e.bin?x=1", "https://cdn.example.com/fw/e.bin?x=1"],
		["./f.bin", "https://cdn.example.com/fw/v2/f.bin"],
		["/g/../../h.bin", "https://cdn.example.com/h.bin"],
		["..", "https://cdn.example.com/fw/"],
	]) {
		it(`${location} → ${expected}`, () => assert.equal(resolveLocation(base, location), expected));
	}
});
