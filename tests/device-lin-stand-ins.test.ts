/*
 * The lin simulator's stand-ins in device/stand-ins/ (linked instead of esp32's `ota` and `flash`
 * by manifest.json): the synthesized running-image header must parse as an ESP32 app image with
 * the configured project and version, and the ota stand-in must keep esp_ota's call order rules.
 */
import {strict as assert} from "node:assert";
import {loadDevice} from "./support/moddable-loader";
import {parseImageHeader} from "../ota/image";
import {fixtureBytes} from "./support/image-fixtures";
import {resetChip} from "./support/moddable/esp32-chip";
import config from "./support/moddable/mc/config";

type FlashModule = {default: new (name: string) => {byteLength: number; read(offset: number, length: number): ArrayBuffer}};
type OtaModule = {default: new () => {write(data: ArrayBuffer | ArrayBufferView): void; cancel(): void; complete(): void}};

describe("lin stand-ins of ota and flash (device/stand-ins)", () => {
	it("flash 'running' holds a header that parses to config.firmwareProject / firmwareVersion", async () => {
		Object.assign(config, {firmwareProject: "rainmaker-ota-xs", firmwareVersion: "0.1.0-sim", firmwareSecureVersion: 1});
		const Flash = (await loadDevice<FlashModule>("stand-ins/flash")).default;
		const info = parseImageHeader(new Uint8Array(new Flash("running").read(0, 289)));
		assert.equal(info.projectName, "rainmaker-ota-xs");
		assert.equal(info.version, "0.1.0-sim");
		assert.equal(info.secureVersion, 1);
		assert.equal(new Flash("nextota").byteLength, 0x1F0000);
		assert.throws(() => new Flash("fctry"), /no partition "fctry"/);
	});

	it("ota: one session at a time, nothing past the slot, complete() refuses a non-image", async () => {
		resetChip({running: new Uint8Array(fixtureBytes("synthetic/app-1.0.0.bin")), slotBytes: 4096});	// the stand-in sizes its slot with "flash" (here the test's chip)
		const OTA = (await loadDevice<OtaModule>("stand-ins/ota")).default;
		const first = new OTA();
		assert.throws(() => new OTA(), /begin failed/);
		assert.throws(() => first.write(new Uint8Array(4097)), /write failed/);
		first.write(new Uint8Array([0x00, 1, 2]));
		assert.throws(() => first.complete(), /end failed/);
		const second = new OTA();
		second.write(new Uint8Array([0xE9, 1, 2]));
		second.complete();
		assert.throws(() => second.write(new Uint8Array(1)), /write failed/);
		new OTA().cancel();
	});
});
