/* device/key-value-store.ts over the Preference stand-in (esp32 NVS rules: 15-character names, i32 numbers). */
import {strict as assert} from "node:assert";
import {loadDevice} from "./support/moddable-loader";
import Preference, {preferenceStorage} from "./support/moddable/preference";
import type {KeyValueStore} from "../rainmaker/ports";

type StoreModule = {PreferenceStore: new (domain: string) => KeyValueStore & {domain: string}; MAX_KEY_LENGTH: number};

describe("device key-value store (Preference stand-in with NVS limits)", () => {
	let mod: StoreModule;

	before(async () => {
		mod = await loadDevice<StoreModule>("esp32/key-value-store");
	});
	beforeEach(() => preferenceStorage.clear());

	it("stores str, i32, u8, blob through Preference and u16 through FFI, each with its type; deletes (also missing keys)", () => {
		const store = new mod.PreferenceStore("rmaker_ota");
		store.set("rmaker_ota_id", {type: "blob", value: Uint8Array.of(0x6a, 0x31)});
		store.set("ota_written", {type: "u16", value: 8});
		store.set("ota_file_md5", {type: "str", value: "abc"});
		store.set("n", {type: "i32", value: -5});
		store.set("flag", {type: "u8", value: 1});
		assert.deepEqual(store.get("rmaker_ota_id"), {type: "blob", value: Uint8Array.of(0x6a, 0x31)});
		assert.deepEqual(store.get("ota_written"), {type: "u16", value: 8});
		assert.deepEqual(store.get("ota_file_md5"), {type: "str", value: "abc"});
		assert.deepEqual(store.get("n"), {type: "i32", value: -5});
		assert.deepEqual(store.get("flag"), {type: "u8", value: 1});
		assert.equal(store.get("missing"), undefined);
		store.delete("flag");
		store.delete("never_set");
		assert.equal(store.get("flag"), undefined);
		assert.ok(
			preferenceStorage.get("rmaker_ota")!.get("rmaker_ota_id") instanceof ArrayBuffer,
			"a blob is an ArrayBuffer for Preference (nvs_set_blob)",
		);
		assert.deepEqual(
			new mod.PreferenceStore("rmaker_ota").get("ota_written"),
			{type: "u16", value: 8},
			"a second store of the domain sees the value",
		);
		assert.throws(
			() => Preference.get("rmaker_ota", "ota_written"),
			/nvs get fail/,
			"what modPreference.c does with a u16: the store catches it",
		);
		store.set("ota_written", {type: "i32", value: 4096});
		assert.deepEqual(
			store.get("ota_written"),
			{type: "i32", value: 4096},
			"a write of another type replaces the entry",
		);
	});

	it("refuses keys and domains over 15 characters with a clear error, before touching the store", () => {
		assert.equal(mod.MAX_KEY_LENGTH, 15);
		const store = new mod.PreferenceStore("rmaker_ota");
		assert.throws(
			() => store.set("a_key_of_16_char", {type: "str", value: "x"}),
			/must have 1 to 15 characters \(NVS limit\)/,
		);
		assert.throws(() => store.get(""), /must have 1 to 15 characters/);
		assert.throws(() => new mod.PreferenceStore("a_domain_16_char"), /preference domain/);
		store.set("key_of_15_chars", {type: "str", value: "ok"});
		assert.deepEqual(store.get("key_of_15_chars"), {type: "str", value: "ok"});
		assert.equal(preferenceStorage.get("rmaker_ota")?.size, 1);
	});

	it("refuses values NVS cannot hold (floats, out-of-range integers, over-long strings, types it cannot write) and keeps the old value", () => {
		const store = new mod.PreferenceStore("rmaker_ota");
		store.set("n", {type: "i32", value: 7});
		assert.throws(() => store.set("n", {type: "i32", value: 1.5}), /does not fit NVS type i32/);
		assert.throws(() => store.set("n", {type: "i32", value: 2 ** 31}), /does not fit NVS type i32/);
		assert.throws(() => store.set("n", {type: "u16", value: -1}), /does not fit NVS type u16/);
		assert.throws(() => store.set("s", {type: "str", value: "é".repeat(2001)}), /at most 4000 bytes/);
		assert.throws(() => store.set("n", {type: "u32", value: 1}), /NVS type u32 1 is not written on this platform/);
		assert.deepEqual(store.get("n"), {type: "i32", value: 7});
		assert.equal(store.get("s"), undefined);
	});

	it("reads entries another firmware wrote (esp-rainmaker's blob job id and flag) with their types, never throwing", () => {
		preferenceStorage.set(
			"rmaker_ota",
			new Map([
				["ota_update", Uint8Array.of(1).buffer],
				["rmaker_ota_id", new TextEncoder().encode("job-c").buffer],
			]),
		);
		const store = new mod.PreferenceStore("rmaker_ota");
		assert.deepEqual(store.get("ota_update"), {type: "blob", value: Uint8Array.of(1)});
		assert.deepEqual(store.get("rmaker_ota_id"), {type: "blob", value: new TextEncoder().encode("job-c")});
	});
});
