/*
 * Firmware entry point on the Moddable SDK: opens the platform (device-platform: esp32 or the lin
 * simulator), reads the claim data of the fctry partition, the settings (mc/config) and the TLS
 * credentials, builds the device adapters and starts the platform-neutral firmware
 * (ota/firmware.ts), then opens the console: the platform's local console (lin: standard input;
 * esp32: the serial Console with serialConsole=true) and telnet only when configured.
 * On esp32, setup/network has already brought the network up and set the clock: Wi-Fi (config
 * ssid/password) on the device, QEMU's OpenCores Ethernet in the QEMU build (docs/device.md, section 11).
 * The platform was opened and the rollback clock of a new image started before that, by the setup step
 * of device/rollback-clock.ts (a new image that never gets a network still rolls back).
 */
import config from "mc/config";
import Resource from "Resource";
import {startFirmware} from "./ota/firmware";
import {switchProduct} from "./product/switch";
import {startEarly} from "./device/rollback-clock";
import {DeviceMqttSession, type MqttTlsConfig} from "./device/mqtt-session";
import {MQTT_DEFAULTS} from "./rainmaker/mqtt-session";
import {DeviceHttpClient, type TrustRule} from "./device/http-client";
import {createCryptDigest} from "./device/digest";
import {installConsole} from "./device/console";
import {tlsCertificate, tlsPrivateKey} from "./device/credentials";
import type {HttpClient} from "./ota/ports";
import {openSerialConsole} from "serial-console";
import {readSettings} from "./device/settings";
import {MemoryMeter} from "./device/memory-meter";

function resource(name: string, what: string): ArrayBuffer {
	if (!Resource.exists(name)) throw new Error(`${what} resource "${name}" is missing (see certs/README.md)`);
	const bytes = new Resource(name).slice(0);
	// certs/ ships placeholders: a DER certificate or key starts with a SEQUENCE (0x30)
	if (bytes.byteLength < 64 || new Uint8Array(bytes)[0] !== 0x30)
		throw new Error(`${what} resource "${name}" is a placeholder, not DER (see certs/README.md)`);
	return bytes;
}

/** A DER resource left in flash (not copied into the chunk heap), after the same checks as resource(). */
function inFlash(name: string, what: string): ArrayBuffer {
	if (!Resource.exists(name)) throw new Error(`${what} resource "${name}" is missing (see certs/README.md)`);
	const bytes = new Resource(name);
	if (bytes.byteLength < 64 || new Uint8Array(bytes.slice(0, 1))[0] !== 0x30)
		throw new Error(`${what} resource "${name}" is not DER (see certs/README.md)`);
	return bytes as unknown as ArrayBuffer;
}

function main(): void {
	const {log, timers, platform, clock: rollbackClock} = startEarly();
	// A claimed node's identity is in its fctry partition; config/resources are the development fallback.
	const claim = platform.readClaim();
	const settings = readSettings(
		claim ? {...config, nodeId: claim.nodeId, mqttHost: config.mqttHost || claim.mqttHost} : config,
	);
	if (claim) log.info(`fctry: claimed node ${claim.nodeId}, MQTT host ${settings.mqttHost}`);
	const mqttCa = settings.mqttTls ? resource(settings.caResource, "CA certificate") : undefined;
	const tls: MqttTlsConfig | undefined = mqttCa
		? {
				ca: mqttCa,
				certificate: claim
					? tlsCertificate(claim.clientCert, "fctry client_cert")
					: resource(settings.certificateResource, "node certificate"),
				key: claim
					? tlsPrivateKey(claim.clientKey, "fctry client_key")
					: tlsPrivateKey(
							new Uint8Array(resource(settings.keyResource, "node key")),
							`key resource "${settings.keyResource}"`,
						),
				alpn: settings.mqttAlpn || undefined,
			}
		: undefined;
	const session = new DeviceMqttSession(
		{
			host: settings.mqttHost,
			port: settings.mqttPort,
			clientId: settings.nodeId,
			username: settings.mqttUser,
			keepAliveSeconds: settings.mqttKeepAliveSeconds,
			tls, // back-off and connect timeout: the core's MQTT_DEFAULTS
			// a stream block arrives in one packet: room for the block, its topic and CBOR (docs/protocol.md §5.10)
			maxPacketBytes: Math.max(MQTT_DEFAULTS.maxPacketBytes, (settings.ota.streamBlockSize ?? 0) + 1024),
		},
		timers,
		log,
	);
	// HTTPS downloads trust the MQTT endpoint's CA for the MQTT host and the download roots (default:
	// the Amazon roots of ESP-IDF's certificate bundle, docs/device.md section 5) for every other
	// host. The roots stay in flash: a Resource is a host buffer the TLS client reads in place.
	const trust: TrustRule[] = [];
	if (mqttCa) trust.push({host: settings.mqttHost, certificates: [mqttCa]});
	const roots: ArrayBuffer[] = [];
	for (const name of settings.downloadCaResources) {
		try {
			roots.push(inFlash(name, "download CA certificate"));
		} catch (error) {
			log.warn(`${error instanceof Error ? error.message : String(error)}; not trusted for HTTPS downloads`);
		}
	}
	if (roots.length) trust.push({certificates: roots});
	else if (settings.downloadCaResources.length)
		log.warn(`no download CA could be read: HTTPS downloads from other hosts than ${settings.mqttHost} will fail`);
	// config memoryReport=true in an instrumented build: peak XS memory during the update (docs/device.md)
	const meter = config.memoryReport === true || config.memoryReport === "true" ? new MemoryMeter() : undefined;
	let http: HttpClient = new DeviceHttpClient(timers, {trust});
	let boot = platform.boot;
	if (meter?.available) {
		meter.start(log);
		http = meter.metered(http);
		boot = meter.meteredBoot(platform.boot, log);
	}
	const firmware = startFirmware(
		{
			session,
			timers,
			log,
			store: platform.store,
			http,
			partition: platform.partition,
			boot,
			createDigest: createCryptDigest,
			rollbackClock,
			paramStore: platform.paramStore,
		},
		{
			nodeId: settings.nodeId,
			nodeName: settings.nodeName,
			nodeType: settings.nodeType,
			platform: platform.target,
			topicForm: settings.topicForm,
			ota: settings.ota,
			product: switchProduct({log}),
		},
	);
	const command = (name: string, args: readonly string[], print: (line: string) => void) =>
		firmware.command(name, args, print);
	if (settings.telnetPort && !platform.telnetAllowed)
		log.warn(
			`telnetPort ${settings.telnetPort} ignored: on this platform a listener binds every interface; use the console on standard input`,
		);
	installConsole(command, {
		telnetPort: platform.telnetAllowed ? settings.telnetPort : 0,
		telnetAddress: settings.telnetAddress || undefined,
		openSerial: settings.serialConsole ? openSerialConsole : undefined,
	});
	platform.openLocalConsole?.((line, print) => {
		const [name, ...args] = line.split(/\s+/);
		if (!command(name.toLowerCase(), args, print) && name.toLowerCase() !== "help")
			print(`Error: unknown command ${JSON.stringify(name)}; 'help' lists the commands`);
	});
}

try {
	main();
} catch (error) {
	// A configuration error must not reboot-loop the device (an uncaught exception restarts an
	// esp32): report it and stay idle, still running the old, valid image.
	trace(`rainmaker-ota-xs: not started: ${error instanceof Error ? error.message : String(error)}\n`);
}
