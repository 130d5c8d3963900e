/*
 * What main.ts needs of the platform it runs on, provided by the module mapped as
 * "device-platform" (manifest.json): device/esp32/platform.ts on the ESP32, device/lin/platform.ts
 * on the lin simulator build. Each builds the platform's adapters of the OTA ports once, at start.
 */
import type {ClaimedCredentials} from "../idf/fctry";
import type {BootControl, UpdatePartition} from "../ota/ports";
import type {KeyValueStore, Log} from "../rainmaker/ports";

export interface DevicePlatform {
	/** The otafetch `platform`: the IDF target the firmware was built for ("esp32"). */
	readonly target: string;
	/** The `rmaker_ota` state. */
	readonly store: KeyValueStore;
	/** The application's persisted params (docs/product.md). */
	readonly paramStore: KeyValueStore;
	readonly partition: UpdatePartition;
	readonly boot: BootControl;
	/** Claim data of the fctry partition (PEM texts), or undefined when the node is not claimed. Throws when it is incomplete. */
	readClaim(): ClaimedCredentials | undefined;
	/**
	 * Whether the telnet console may listen: the lin SDK's Listener binds every interface (it ignores
	 * `address`), so on lin the console is local only (standard input) and telnet is refused.
	 */
	readonly telnetAllowed: boolean;
	/** Opens the platform's local console for the command handler (lin: standard input), if it has one. */
	openLocalConsole?(onLine: (line: string, print: (text: string) => void) => void): void;
}

export type OpenPlatform = (log: Log) => DevicePlatform;
