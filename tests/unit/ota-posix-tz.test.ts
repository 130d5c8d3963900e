/*
 * POSIX TZ strings (ota/posix-tz.ts) and download windows in the node's local time
 * (ota/time-window.ts, docs/protocol.md §5.7): DST transitions of both hemispheres, the rule forms
 * (Mm.w.d, Jn, n, times past 24 h and negative), the reference's window edges, and a cross-check of
 * the offsets against the C library of the machine (glibc's `date`, which reads the same strings).
 */
import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {localMinuteOfDay, parsePosixTimezone, TimezoneError, utcOffsetAt} from "../../ota/posix-tz";
import {checkTimeMetadata} from "../../ota/time-window";

const at = (iso: string) => Date.parse(iso) / 1000;
const hours = (zone: string, iso: string) => utcOffsetAt(parsePosixTimezone(zone), at(iso)) / 3600;
const US_CENTRAL = "CST6CDT,M3.2.0,M11.1.0";
const SYDNEY = "AEST-10AEDT,M10.1.0,M4.1.0/3";

describe("POSIX TZ strings", () => {
	it("US Central: CDT from 2026-03-08 02:00 CST to 2026-11-01 02:00 CDT, to the second", () => {
		assert.equal(hours(US_CENTRAL, "2026-03-08T07:59:59Z"), -6);
		assert.equal(hours(US_CENTRAL, "2026-03-08T08:00:00Z"), -5);
		assert.equal(hours(US_CENTRAL, "2026-11-01T06:59:59Z"), -5);
		assert.equal(hours(US_CENTRAL, "2026-11-01T07:00:00Z"), -6);
		assert.equal(
			hours("CST6CDT", "2026-07-01T00:00:00Z"),
			-5,
			"a dst without rules uses newlib's default M3.2.0,M11.1.0",
		);
	});

	it("Sydney (southern hemisphere, DST over the new year, end at 03:00)", () => {
		assert.equal(hours(SYDNEY, "2026-01-01T00:00:00Z"), 11);
		assert.equal(hours(SYDNEY, "2026-04-04T15:59:59Z"), 11);
		assert.equal(hours(SYDNEY, "2026-04-04T16:00:00Z"), 10);
		assert.equal(hours(SYDNEY, "2026-10-03T15:59:59Z"), 10);
		assert.equal(hours(SYDNEY, "2026-10-03T16:00:00Z"), 11);
		assert.equal(hours(SYDNEY, "2026-12-31T23:59:59Z"), 11);
	});

	it("names in <>, offsets with minutes, Jn / n day rules, explicit dst offsets, week 5 = last", () => {
		assert.equal(hours("<+0530>-5:30", "2026-06-01T00:00:00Z"), 5.5);
		assert.equal(hours("UTC0", "2026-06-01T00:00:00Z"), 0);
		// J60 is March 1 every year; n59 is March 1 in a leap year only (Feb 29 counted)
		assert.equal(hours("AAA0BBB,J60/0,J300", "2028-02-29T23:59:59Z"), 0);
		assert.equal(hours("AAA0BBB,J60/0,J300", "2028-03-01T00:00:00Z"), 1);
		assert.equal(hours("AAA0BBB,59/0,300", "2028-02-29T00:00:00Z"), 1, "n59 of 2028 is Feb 29");
		assert.equal(
			hours("AAA0BBB-2,M3.5.0/1,M10.5.0", "2026-03-29T00:59:59Z"),
			0,
			"last Sunday of March 2026 is the 29th",
		);
		assert.equal(hours("AAA0BBB-2,M3.5.0/1,M10.5.0", "2026-03-29T01:00:00Z"), 2);
		assert.equal(
			hours("AAA3BBB,M3.2.0/-1,M11.1.0/26", "2026-03-08T01:59:59Z"),
			-3,
			"a negative transition time is the day before",
		);
		assert.equal(hours("AAA3BBB,M3.2.0/-1,M11.1.0/26", "2026-03-08T02:00:00Z"), -2);
	});

	it("refuses a string that is not POSIX TZ with one line naming what and where", () => {
		for (const [text, what] of [
			["", /standard time name must have three or more letters at position 1/],
			["CST", /offset of standard time is missing/],
			["Europe/Berlin", /standard offset hours is missing at position 7/],
			["CST6CDT,M13.1.0,M11.1.0", /start month 13 is above 12/],
			["CST6CDT,M3.2.0", /"," before the end rule is missing/],
			["CST25", /standard offset hours 25 is above 24/],
			["<AB-1", /not closed/],
		] as const) {
			assert.throws(
				() => parsePosixTimezone(text),
				(error: unknown) =>
					error instanceof TimezoneError &&
					what.test(error.message) &&
					/expected a POSIX TZ string/.test(error.message),
				text,
			);
		}
	});

	it("agrees with glibc (date +%z) every 7 hours of 2024..2027, and at each second around the transitions", function () {
		const probe = spawnSync("date", ["-u", "-d", "@0", "+%z"], {encoding: "utf8"});
		if (probe.status !== 0 || probe.stdout.trim() !== "+0000") {
			console.log("      skipped: no GNU date on this machine");
			this.skip();
		}
		for (const zone of [
			US_CENTRAL,
			SYDNEY,
			"CET-1CEST,M3.5.0,M10.5.0/3",
			"<-03>3<-02>,M3.2.0,M11.1.0",
			"NZST-12NZDT,M9.5.0,M4.1.0/3",
		]) {
			const parsed = parsePosixTimezone(zone);
			const epochs: number[] = [];
			for (let year = 2024; year <= 2027; year++)
				for (let hour = 0; hour < 366 * 24; hour += 7)
					epochs.push(at(`${year}-01-01T00:00:00Z`) + hour * 3600 + 1799);
			// the seconds around each transition, found where the 7-hour samples change offset
			for (let index = 1, count = epochs.length; index < count; index++)
				if (utcOffsetAt(parsed, epochs[index]) !== utcOffsetAt(parsed, epochs[index - 1]))
					for (let second = epochs[index - 1]; second < epochs[index]; second += 600)
						epochs.push(second - 1, second);
			const result = spawnSync("date", ["-f", "-", "+%z"], {
				input: epochs.map(epoch => `@${epoch}`).join("\n"),
				encoding: "utf8",
				env: {...process.env, TZ: zone},
				maxBuffer: 16 << 20,
			});
			const expected = result.stdout.trim().split("\n");
			assert.equal(expected.length, epochs.length);
			epochs.forEach((epoch, index) => {
				const offset = utcOffsetAt(parsed, epoch);
				const sign = offset < 0 ? "-" : "+";
				const text = `${sign}${String(Math.floor(Math.abs(offset) / 3600)).padStart(2, "0")}${String((Math.abs(offset) % 3600) / 60).padStart(2, "0")}`;
				assert.equal(text, expected[index], `${zone} at ${new Date(epoch * 1000).toISOString()}`);
			});
		}
	});
});

describe("download windows in the node's local time (esp_rmaker_ota_handle_time rules)", () => {
	const window = (start: number, end: number) => JSON.stringify({download_window: {start, end}});
	const central = parsePosixTimezone(US_CENTRAL);

	it("reads the window in local time: 02:00..04:00 Central is 08:00..10:00 UTC in winter, 07:00..09:00 in summer", () => {
		assert.equal(localMinuteOfDay(central, at("2026-01-15T08:30:00Z")), 150);
		assert.equal(checkTimeMetadata(window(120, 240), at("2026-01-15T08:30:00Z"), central), undefined);
		assert.deepEqual(
			checkTimeMetadata(window(120, 240), at("2026-01-15T03:00:00Z")),
			undefined,
			"in UTC 03:00 is inside; in Central it is 21:00",
		);
		assert.deepEqual(checkTimeMetadata(window(120, 240), at("2026-01-15T03:00:00Z"), central), {
			status: "delayed",
			text: "Not within download window.",
			fetchAfterSeconds: 5 * 3600 + 5,
		});
		assert.equal(checkTimeMetadata(window(120, 240), at("2026-07-15T07:30:00Z"), central), undefined);
		assert.deepEqual(checkTimeMetadata(window(120, 240), at("2026-07-15T09:30:00Z"), central)?.status, "delayed");
	});

	it("both ends inclusive to the minute: the end minute is inside, the minute after is not", () => {
		const base = at("2026-01-15T06:00:00Z"); // 00:00 Central
		assert.equal(checkTimeMetadata(window(120, 240), base + 120 * 60, central), undefined, "02:00:00");
		assert.deepEqual(
			checkTimeMetadata(window(120, 240), base + 120 * 60 - 1, central),
			{status: "delayed", text: "Not within download window.", fetchAfterSeconds: 65},
			"01:59:59: one minute + 5 s",
		);
		assert.equal(
			checkTimeMetadata(window(120, 240), base + 240 * 60 + 59, central),
			undefined,
			"04:00:59 is still the end minute",
		);
		assert.deepEqual(
			checkTimeMetadata(window(120, 240), base + 241 * 60, central)?.fetchAfterSeconds,
			(1440 - 241 + 120) * 60 + 5,
			"04:01: tomorrow 02:00",
		);
	});

	it("across midnight (23:00..01:00) and a one-minute window (start = end)", () => {
		const midnight = at("2026-01-15T06:00:00Z");
		assert.equal(checkTimeMetadata(window(1380, 60), midnight - 30 * 60, central), undefined, "23:30");
		assert.equal(checkTimeMetadata(window(1380, 60), midnight + 60 * 60, central), undefined, "01:00");
		assert.deepEqual(
			checkTimeMetadata(window(1380, 60), midnight + 61 * 60, central)?.fetchAfterSeconds,
			(1380 - 61) * 60 + 5,
			"01:01",
		);
		assert.equal(checkTimeMetadata(window(600, 600), midnight + 600 * 60 + 30, central), undefined);
		assert.equal(checkTimeMetadata(window(600, 600), midnight + 601 * 60, central)?.status, "delayed");
	});

	it("on the day DST starts the local minute jumps: 02:30 Central does not exist, 03:00 CDT follows 01:59 CST", () => {
		assert.equal(localMinuteOfDay(central, at("2026-03-08T07:59:00Z")), 119);
		assert.equal(localMinuteOfDay(central, at("2026-03-08T08:00:00Z")), 180);
		assert.equal(
			checkTimeMetadata(window(150, 170), at("2026-03-08T08:00:00Z"), central)?.status,
			"delayed",
			"the window 02:30..02:50 is skipped that night",
		);
		// the day DST ends, 01:00..01:59 comes twice: both are inside a 01:00..01:30 window
		assert.equal(checkTimeMetadata(window(60, 90), at("2026-11-01T06:15:00Z"), central), undefined, "01:15 CDT");
		assert.equal(checkTimeMetadata(window(60, 90), at("2026-11-01T07:15:00Z"), central), undefined, "01:15 CST");
	});

	it("-1 is the reference's 'not given': no bound", () => {
		assert.equal(
			checkTimeMetadata(JSON.stringify({validity: {start: -1, end: -1}}), at("2026-01-15T06:00:00Z")),
			undefined,
		);
		assert.deepEqual(
			checkTimeMetadata(JSON.stringify({download_window: {start: 120, end: -1}}), at("2026-01-15T06:00:00Z")),
			{status: "failed", text: "Invalid download window specified."},
		);
	});
});
