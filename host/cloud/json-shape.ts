/* The shape of JSON without trusting it: nesting depth of a text (one pass, no recursion) and key count of a value. */

/** Deepest nesting of a JSON text, read without parsing (so a 40,000-level text costs one pass, no stack). */
export function jsonDepth(text: string): number {
	let depth = 0;
	let deepest = 0;
	let inString = false;
	for (let index = 0; index < text.length; index++) {
		const code = text.charCodeAt(index);
		if (inString) {
			if (code === 0x5c)
				// backslash: skip the escaped character
				index++;
			else if (code === 0x22) inString = false;
		} else if (code === 0x22) {
			inString = true;
		} else if (code === 0x7b || code === 0x5b) {
			if (++depth > deepest) deepest = depth;
		} else if (code === 0x7d || code === 0x5d) {
			depth--;
		}
	}
	return deepest;
}

/** Keys at every level of a parsed value (iterative). */
export function keyCount(value: unknown): number {
	let count = 0;
	const pending: unknown[] = [value];
	while (pending.length > 0) {
		const next = pending.pop();
		if (Array.isArray(next)) {
			pending.push(...next);
		} else if (typeof next === "object" && next !== null) {
			const values = Object.values(next);
			count += values.length;
			pending.push(...values);
		}
	}
	return count;
}
