/*
 * UTF-8 byte counts of JS strings: payload limits are in bytes, and neither ES2022 nor the device
 * build has TextEncoder or a Node buffer type.
 */

/** UTF-8 length without TextEncoder (not part of ES2022, and the device build has no Node Buffer). */
export function utf8Length(text: string): number {
	let length = 0;
	for (let index = 0; index < text.length; index++) {
		const code = text.charCodeAt(index);
		if (code < 0x80)
			length += 1;
		else if (code < 0x800)
			length += 2;
		else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
			const next = text.charCodeAt(index + 1);
			if (next >= 0xdc00 && next <= 0xdfff) {
				length += 4;
				index++;
			} else
				length += 3;
		} else
			length += 3;
	}
	return length;
}
