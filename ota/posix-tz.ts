/*
 * POSIX TZ strings (IEEE Std 1003.1, 8.3 "TZ"), as newlib's tzset reads them on the ESP32 and as
 * esp-rainmaker's timezone service sets them (docs/protocol.md §5.7): the node's local time for the
 * download window, without Intl (the device has none).
 *
 *   std offset [dst [offset] [,start[/time],end[/time]]]
 *
 * - std, dst: three or more letters, or <...> with letters, digits, "+" and "-" ("<+08>").
 * - offset: [+|-]hh[:mm[:ss]], hours 0..24, the time to ADD to local time to get UTC ("CST6" is
 *   UTC-6). The dst offset defaults to one hour less than std's.
 * - start, end: "Jn" (day 1..365, February 29 never counted), "n" (day 0..365, counted) or "Mm.w.d"
 *   (month 1..12, week 1..5 where 5 is the last, weekday 0..6 from Sunday); time [+|-]hh[:mm[:ss]]
 *   of local time then in force, default 02:00:00, hours -167..167 (the POSIX 2008 extension newlib
 *   and glibc accept). A dst without a rule uses newlib's default, M3.2.0,M11.1.0.
 * Start and end are the instants of the year in which DST begins and ends; when start comes later
 * in the year than end (the southern hemisphere), DST runs over the new year.
 */

export class TimezoneError extends Error {
	override name = "TimezoneError";
}

/** A transition day rule. */
type DayRule =
	| {readonly kind: "J"; readonly day: number}
	| {readonly kind: "n"; readonly day: number}
	| {readonly kind: "M"; readonly month: number; readonly week: number; readonly weekday: number};

interface Transition {
	readonly day: DayRule;
	/** Seconds after local midnight. */
	readonly time: number;
}

export interface PosixTimezone {
	/** The string it was parsed from. */
	readonly text: string;
	readonly stdName: string;
	/** Seconds east of UTC (the negated POSIX offset). */
	readonly stdOffset: number;
	readonly dstName?: string;
	readonly dstOffset?: number;
	readonly start?: Transition;
	readonly end?: Transition;
}

const DAY = 86400;
const DEFAULT_RULE = "M3.2.0,M11.1.0";

class Reader {
	at = 0;
	constructor(readonly text: string) {}
	get done(): boolean {
		return this.at >= this.text.length;
	}
	peek(): string {
		return this.text[this.at] ?? "";
	}
	fail(what: string): never {
		throw new TimezoneError(
			`timezone ${JSON.stringify(this.text)}: ${what} at position ${this.at + 1}; expected a POSIX TZ string such as "CST6CDT,M3.2.0,M11.1.0" or "UTC0"`,
		);
	}
	number(max: number, what: string): number {
		const start = this.at;
		while (/[0-9]/.test(this.peek())) this.at++;
		if (this.at === start) this.fail(`${what} is missing`);
		const value = Number(this.text.slice(start, this.at));
		if (value > max) this.fail(`${what} ${value} is above ${max}`);
		return value;
	}
}

function name(reader: Reader, what: string): string {
	if (reader.peek() === "<") {
		const end = reader.text.indexOf(">", reader.at);
		if (end < 0) reader.fail(`${what} name "<" is not closed by ">"`);
		const text = reader.text.slice(reader.at + 1, end);
		if (text.length < 3 || !/^[A-Za-z0-9+-]+$/.test(text))
			reader.fail(`${what} name <${text}> must have three or more letters, digits, "+" or "-"`);
		reader.at = end + 1;
		return text;
	}
	const start = reader.at;
	while (/[A-Za-z]/.test(reader.peek())) reader.at++;
	if (reader.at - start < 3) reader.fail(`${what} name must have three or more letters`);
	return reader.text.slice(start, reader.at);
}

/** [+|-]hh[:mm[:ss]] in seconds. */
function clock(reader: Reader, maxHours: number, what: string): number {
	let sign = 1;
	if (reader.peek() === "+" || reader.peek() === "-") sign = reader.text[reader.at++] === "-" ? -1 : 1;
	let seconds = reader.number(maxHours, `${what} hours`) * 3600;
	if (reader.peek() === ":") {
		reader.at++;
		seconds += reader.number(59, `${what} minutes`) * 60;
		if (reader.peek() === ":") {
			reader.at++;
			seconds += reader.number(59, `${what} seconds`);
		}
	}
	return sign * seconds;
}

function transition(reader: Reader, what: string): Transition {
	let day: DayRule;
	if (reader.peek() === "J") {
		reader.at++;
		const value = reader.number(365, `${what} day`);
		if (value < 1) reader.fail(`${what} day J${value} must be 1..365`);
		day = {kind: "J", day: value};
	} else if (reader.peek() === "M") {
		reader.at++;
		const month = reader.number(12, `${what} month`);
		if (month < 1) reader.fail(`${what} month must be 1..12`);
		if (reader.peek() !== ".") reader.fail(`${what} rule Mm.w.d needs "." after the month`);
		reader.at++;
		const week = reader.number(5, `${what} week`);
		if (week < 1) reader.fail(`${what} week must be 1..5`);
		if (reader.peek() !== ".") reader.fail(`${what} rule Mm.w.d needs "." after the week`);
		reader.at++;
		day = {kind: "M", month, week, weekday: reader.number(6, `${what} weekday`)};
	} else day = {kind: "n", day: reader.number(365, `${what} day`)};
	let time = 7200;
	if (reader.peek() === "/") {
		reader.at++;
		time = clock(reader, 167, `${what} time`);
	}
	return {day, time};
}

/** Parses a POSIX TZ string; throws TimezoneError saying what is wrong where. */
export function parsePosixTimezone(text: string): PosixTimezone {
	const reader = new Reader(text);
	const stdName = name(reader, "standard time");
	if (reader.done) reader.fail("the offset of standard time is missing");
	const stdOffset = -clock(reader, 24, "standard offset") || 0; // never -0
	if (reader.done) return {text, stdName, stdOffset};
	const dstName = name(reader, "daylight time");
	let dstOffset = stdOffset + 3600;
	if (!reader.done && reader.peek() !== ",") dstOffset = -clock(reader, 24, "daylight offset") || 0;
	let rules = reader;
	if (reader.done) rules = new Reader(DEFAULT_RULE);
	else {
		if (reader.peek() !== ",") reader.fail('"," before the start rule is missing');
		reader.at++;
	}
	const start = transition(rules, "start");
	if (rules.peek() !== ",") rules.fail('"," before the end rule is missing');
	rules.at++;
	const end = transition(rules, "end");
	if (!rules.done) rules.fail(`unexpected ${JSON.stringify(rules.peek())}`);
	return {text, stdName, stdOffset, dstName, dstOffset, start, end};
}

/** Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
	const y = month <= 2 ? year - 1 : year;
	const era = Math.floor(y / 400);
	const yoe = y - era * 400;
	const mp = (month + 9) % 12;
	const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
	const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
	return era * 146097 + doe - 719468;
}

function isLeap(year: number): boolean {
	return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The civil year of a day count. */
function yearOf(days: number): number {
	let year = 1970 + Math.floor(days / 365.2425);
	while (daysFromCivil(year, 1, 1) > days) year--;
	while (daysFromCivil(year + 1, 1, 1) <= days) year++;
	return year;
}

/** Day (since 1970) on which a rule falls in `year`. */
function ruleDay(rule: DayRule, year: number): number {
	const first = daysFromCivil(year, 1, 1);
	if (rule.kind === "J") return first + rule.day - 1 + (isLeap(year) && rule.day >= 60 ? 1 : 0);
	if (rule.kind === "n") return first + rule.day;
	const monthStart = daysFromCivil(year, rule.month, 1);
	const length = rule.month === 2 && isLeap(year) ? 29 : MONTH_DAYS[rule.month - 1];
	const weekday = (monthStart + 4) % 7; // 1970-01-01 was a Thursday (4)
	let day = 1 + ((rule.weekday - weekday + 7) % 7) + (rule.week - 1) * 7;
	while (day > length) day -= 7;
	return monthStart + day - 1;
}

/** Seconds east of UTC in force at `epoch` (seconds since 1970, UTC). */
export function utcOffsetAt(zone: PosixTimezone, epoch: number): number {
	if (zone.dstOffset === undefined || !zone.start || !zone.end) return zone.stdOffset;
	const year = yearOf(Math.floor((epoch + zone.stdOffset) / DAY));
	// start is given in standard time, end in daylight time (the local time in force before each)
	const start = ruleDay(zone.start.day, year) * DAY + zone.start.time - zone.stdOffset;
	const end = ruleDay(zone.end.day, year) * DAY + zone.end.time - zone.dstOffset;
	const dst = start < end ? epoch >= start && epoch < end : !(epoch >= end && epoch < start);
	return dst ? zone.dstOffset : zone.stdOffset;
}

/** Local minute of the day (0..1439) at `epoch`, as localtime_r's tm_hour * 60 + tm_min. */
export function localMinuteOfDay(zone: PosixTimezone, epoch: number): number {
	const local = Math.floor(epoch) + utcOffsetAt(zone, epoch);
	return Math.floor((((local % DAY) + DAY) % DAY) / 60);
}
