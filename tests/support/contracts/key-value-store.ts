/*
 * The KeyValueStore contract (rainmaker/ports.ts), for every adapter: each entry keeps its NVS type,
 * a write of another type replaces the entry, a missing key reads undefined and deletes quietly,
 * NVS's limits (15-character keys, each integer type's range, 4000-byte strings) are refused with
 * an Error before anything changes, a blob is copied in, and a persistent store gives back what
 * was written when opened again.
 */
import {strict as assert} from "node:assert";
import type {KeyValueStore, StoredValue} from "../../../rainmaker/ports";

export interface KeyValueStoreSubject {
	/** A fresh, empty store. */
	open(): KeyValueStore;
	/** The same store opened again (a restart); absent for a store that lives in memory only. */
	reopen?(): KeyValueStore;
}

/** The types every platform writes (the esp32 Preference store writes u16 through FFI, u8 only as 0/1 and no u32). */
const VALUES: readonly [string, StoredValue][] = [
	["ota_file_md5", {type: "str", value: "d41d8cd98f00b204e9800998ecf8427e"}],
	["ota_written", {type: "u16", value: 65535}],
	["n", {type: "i32", value: -2147483648}],
	["flag", {type: "u8", value: 1}],
	["rmaker_ota_id", {type: "blob", value: Uint8Array.of(0x6a, 0x00, 0xff)}],
];

export function keyValueStoreContract(name: string, subject: () => Promise<KeyValueStoreSubject>): void {
	describe(`KeyValueStore contract (rainmaker/ports.ts): ${name}`, () => {
		let store: KeyValueStore;
		let opened: KeyValueStoreSubject;

		beforeEach(async () => {
			opened = await subject();
			store = opened.open();
		});

		it("gives each entry back with its NVS type; a missing key is undefined and deletes quietly", () => {
			for (const [key, value] of VALUES) store.set(key, value);
			for (const [key, value] of VALUES) assert.deepEqual(store.get(key), value, key);
			assert.equal(store.get("missing"), undefined);
			store.delete("never_set");
			store.delete("flag");
			assert.equal(store.get("flag"), undefined);
			assert.deepEqual(store.get("n"), {type: "i32", value: -2147483648}, "the others stay");
		});

		it("a write of another type replaces the entry", () => {
			store.set("ota_written", {type: "u16", value: 8});
			store.set("ota_written", {type: "i32", value: 70000});
			assert.deepEqual(store.get("ota_written"), {type: "i32", value: 70000});
			store.set("ota_written", {type: "str", value: "x"});
			assert.deepEqual(store.get("ota_written"), {type: "str", value: "x"});
		});

		it("copies a blob in: changing the caller's bytes afterwards changes nothing stored", () => {
			const bytes = Uint8Array.of(1, 2, 3);
			store.set("blob", {type: "blob", value: bytes});
			bytes[0] = 9;
			assert.deepEqual(store.get("blob"), {type: "blob", value: Uint8Array.of(1, 2, 3)});
		});

		it("refuses keys NVS refuses (empty, over 15 characters) with an Error, for get, set and delete", () => {
			assert.throws(() => store.set("a_key_of_16_char", {type: "str", value: "x"}), /15/);
			assert.throws(() => store.get(""), Error);
			assert.throws(() => store.delete("a_key_of_16_char"), Error);
			store.set("key_of_15_chars", {type: "str", value: "ok"});
			assert.deepEqual(store.get("key_of_15_chars"), {type: "str", value: "ok"});
		});

		it("refuses values NVS cannot hold with an Error and keeps the old value", () => {
			store.set("n", {type: "i32", value: 7});
			store.set("s", {type: "str", value: "old"});
			for (const value of [
				{type: "i32", value: 1.5},
				{type: "i32", value: 2 ** 31},
				{type: "u8", value: 256},
				{type: "u16", value: -1},
			] as const)
				assert.throws(() => store.set("n", value), /does not fit NVS type/, JSON.stringify(value));
			assert.throws(() => store.set("s", {type: "str", value: "é".repeat(2001)}), /4000 bytes/);
			assert.deepEqual(store.get("n"), {type: "i32", value: 7});
			assert.deepEqual(store.get("s"), {type: "str", value: "old"});
		});

		it("a persistent store gives back what was written, with its types, when opened again", function () {
			if (!opened.reopen) return this.skip(); // a store in memory (host MemoryStore) has no restart
			for (const [key, value] of VALUES) store.set(key, value);
			store.delete("flag");
			const again = opened.reopen();
			for (const [key, value] of VALUES)
				assert.deepEqual(again.get(key), key === "flag" ? undefined : value, key);
		});
	});
}
