/*
 * UTF-8 byte counts of JS strings (payload limits are in bytes) and the UTF-8 form of short texts
 * (a job id kept as an NVS blob): neither ES2022 nor the device build has TextEncoder or a Node buffer type.
 */

/** UTF-8 length without TextEncoder (not part of ES2022, and the device build has no Node Buffer). */
export function utf8Length(text: string): number {
	let length = 0;
	for (let index = 0; index < text.length; index++) {
		const code = text.charCodeAt(index);
		if (code < 0x80) length += 1;
		else if (code < 0x800) length += 2;
		else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
			const next = text.charCodeAt(index + 1);
			if (next >= 0xdc00 && next <= 0xdfff) {
				length += 4;
				index++;
			} else length += 3;
		} else length += 3;
	}
	return length;
}

/** UTF-8 bytes of a short text (a job id kept as an NVS blob; not for bulk data). */
export function utf8Bytes(text: string): Uint8Array {
	const bytes = new Uint8Array(utf8Length(text));
	let at = 0;
	for (let index = 0; index < text.length; index++) {
		let code = text.codePointAt(index)!;
		if (code > 0xffff) index++;
		else if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd; // a lone surrogate (utf8Length counted 3 bytes)
		if (code < 0x80) bytes[at++] = code;
		else if (code < 0x800) {
			bytes[at++] = 0xc0 | (code >> 6);
			bytes[at++] = 0x80 | (code & 0x3f);
		} else if (code < 0x10000) {
			bytes[at++] = 0xe0 | (code >> 12);
			bytes[at++] = 0x80 | ((code >> 6) & 0x3f);
			bytes[at++] = 0x80 | (code & 0x3f);
		} else {
			bytes[at++] = 0xf0 | (code >> 18);
			bytes[at++] = 0x80 | ((code >> 12) & 0x3f);
			bytes[at++] = 0x80 | ((code >> 6) & 0x3f);
			bytes[at++] = 0x80 | (code & 0x3f);
		}
	}
	return bytes;
}

/** The text of short UTF-8 bytes (a blob written by C, which may end in NULs); a bad sequence reads as U+FFFD. */
export function utf8Text(bytes: Uint8Array): string {
	let end = bytes.length;
	while (end > 0 && bytes[end - 1] === 0) end--;
	let text = "";
	for (let index = 0; index < end;) {
		const lead = bytes[index];
		const count = lead < 0x80 ? 0 : lead >= 0xf0 && lead < 0xf8 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : -1;
		if (count < 0 || index + count >= end) {
			text += "\uFFFD";
			index++;
			continue;
		}
		let code = count === 0 ? lead : lead & (0x3f >> count);
		let good = true;
		for (let k = 1; k <= count; k++) {
			const next = bytes[index + k];
			if ((next & 0xc0) !== 0x80) {
				good = false;
				break;
			}
			code = (code << 6) | (next & 0x3f);
		}
		if (!good) {
			text += "\uFFFD";
			index++;
			continue;
		}
		text += String.fromCodePoint(code);
		index += count + 1;
	}
	return text;
}

/** Decodes UTF-8; malformed sequences become U+FFFD instead of throwing (payloads come from outside). */
export function utf8Decode(bytes: Uint8Array): string {
	let text = "";
	let index = 0;
	while (index < bytes.length) {
		const first = bytes[index++];
		let code = 0xfffd;
		let extra = 0;
		if (first < 0x80) {
			code = first;
		} else if ((first & 0xe0) === 0xc0) {
			code = first & 0x1f;
			extra = 1;
		} else if ((first & 0xf0) === 0xe0) {
			code = first & 0x0f;
			extra = 2;
		} else if ((first & 0xf8) === 0xf0) {
			code = first & 0x07;
			extra = 3;
		}
		for (let i = 0; i < extra; i++) {
			const next = bytes[index];
			if (next === undefined || (next & 0xc0) !== 0x80) {
				code = 0xfffd;
				break;
			}
			code = (code << 6) | (next & 0x3f);
			index++;
		}
		text += String.fromCodePoint(code > 0x10ffff ? 0xfffd : code);
	}
	return text;
}
