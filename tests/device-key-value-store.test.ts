/* device/key-value-store.ts over the Preference stand-in (esp32 NVS rules: 15-character names, i32 numbers). */
import {strict as assert} from "node:assert";
import {loadDevice} from "./support/moddable-loader";
import {preferenceStorage} from "./support/moddable/preference";
import type {KeyValueStore} from "../rainmaker/ports";

type StoreModule = {PreferenceStore: new (domain: string) => KeyValueStore & {domain: string}; MAX_KEY_LENGTH: number};

describe("device key-value store (Preference stand-in with NVS limits)", () => {
	let mod: StoreModule;

	before(async () => {
		mod = await loadDevice<StoreModule>("esp32/key-value-store");
	});
	beforeEach(() => preferenceStorage.clear());

	it("stores strings, integers and booleans in one domain, and deletes (also missing keys)", () => {
		const store = new mod.PreferenceStore("rmaker_ota");
		store.set("rmaker_ota_id", "job-1");
		store.set("ota_written", 1234);
		store.set("ota_update", true);
		assert.equal(store.get("rmaker_ota_id"), "job-1");
		assert.equal(store.get("ota_written"), 1234);
		assert.equal(store.get("ota_update"), true);
		assert.equal(store.get("missing"), undefined);
		store.delete("ota_update");
		store.delete("never_set");
		assert.equal(store.get("ota_update"), undefined);
		assert.deepEqual([...preferenceStorage.get("rmaker_ota")!.keys()].sort(), ["ota_written", "rmaker_ota_id"]);
		assert.equal(new mod.PreferenceStore("rmaker_ota").get("rmaker_ota_id"), "job-1", "a second store of the domain sees the value");
	});

	it("refuses keys and domains over 15 characters with a clear error, before touching the store", () => {
		assert.equal(mod.MAX_KEY_LENGTH, 15);
		const store = new mod.PreferenceStore("rmaker_ota");
		assert.throws(() => store.set("a_key_of_16_char", "x"), /must have 1 to 15 characters \(NVS limit\)/);
		assert.throws(() => store.get(""), /must have 1 to 15 characters/);
		assert.throws(() => new mod.PreferenceStore("a_domain_16_char"), /preference domain/);
		store.set("key_of_15_chars", "ok");
		assert.equal(store.get("key_of_15_chars"), "ok");
		assert.equal(preferenceStorage.get("rmaker_ota")?.size, 1);
	});

	it("refuses values NVS cannot hold (floats, out-of-range integers, over-long strings) and keeps the old value", () => {
		const store = new mod.PreferenceStore("rmaker_ota");
		store.set("n", 7);
		assert.throws(() => store.set("n", 1.5), /not a 32-bit integer/);
		assert.throws(() => store.set("n", 2 ** 31), /not a 32-bit integer/);
		assert.throws(() => store.set("s", "é".repeat(2001)), /longer than 4000 bytes/);
		assert.equal(store.get("n"), 7);
		assert.equal(store.get("s"), undefined);
	});

	it("reports a buffer value (written by other firmware) as an error instead of a wrong type", () => {
		preferenceStorage.set("rmaker_ota", new Map([["ota_update", new Uint8Array([1]).buffer]]));
		assert.throws(() => new mod.PreferenceStore("rmaker_ota").get("ota_update"), /holds a buffer/);
	});
});
