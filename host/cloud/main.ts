/*
 * `rainmaker-ota-xs cloud`: runs the local cloud until SIGINT/SIGTERM, optionally with images and
 * a job, printing what the nodes do.
 */
import {readFileSync} from "node:fs";
import {parseArgs} from "node:util";
import {startCloud, type Cloud, type CloudOptions} from "./cloud";
import {cliUsers, CliUsageError, listenAddresses, PASSWORDS_ENV} from "./cli-access";
import {DEFAULT_HTTP_PORT, DEFAULT_HTTPS_PORT, DEFAULT_MQTT_PORT, DEFAULT_MQTTS_PORT} from "./defaults";
import type {CloudUser} from "./users";
import type {OtaImage} from "./images";
import {webAssets} from "../web/server";
import {BadImageError, checkImageFile, FileError, listenRefusal} from "./cli-input";

export const cloudUsage = `usage: rainmaker-ota-xs cloud [options]
  --host <addr>             address to listen on (default 127.0.0.1); off loopback the plain
                            MQTT listener needs --allow-plain-on-network
  --allow-plain-on-network  run the identity-less plain MQTT listener on a non-loopback --host
  --advertise-host <name>   the host name put into URLs (default: --host, or for 0.0.0.0 / ::
                            a network address of this machine)
  --mqtt-port <n>           MQTT port (default ${DEFAULT_MQTT_PORT}; 0 = any)
  --http-port <n>           REST API (/v1/) and firmware download (/ota/) port (default ${DEFAULT_HTTP_PORT})
  --tls-key <file>          with --tls-cert: also MQTT over TLS and HTTPS
  --tls-cert <file>
  --tls-ca <file>           require MQTT/TLS client certificates signed by this CA, with the
                            node id as CN; the plain MQTT listener is then off
  --plain-mqtt              with --tls-ca: run the plain MQTT listener anyway
  --mqtts-port <n>          MQTT/TLS port (default ${DEFAULT_MQTTS_PORT})
  --https-port <n>          HTTPS port (default ${DEFAULT_HTTPS_PORT})
  --ota-url-scheme <s>      http or https image URLs in otaurl (default: https with TLS)
  --image <file>            publish an image (repeatable)
  --job-node <id>           create a job of the last --image for this node (repeatable)
  --user-approval           that job needs POST user/nodes/ota_update (cloud-side approval)
  --force-push              that job is pushed at once to online nodes
  --stream                  that job is a stream job: otaurl carries stream_id and the image is
                            also served over MQTT file delivery (nodes with --transport mqtt-stream)
  --failed-terminal         a "failed" report ends a job (default: served again)
  --user <email>            a user who logs in with POST /v1/login2 (repeatable, each with a
  --password <secret>       --password); the first one owns the nodes and is the admin.
                            Default: user@rainmaker.local with a random password, printed.
                            --password shows in ps; prefer:
  --password-file <file>    the passwords, one line per --user in order
                            (or $${PASSWORDS_ENV}, the same lines)
  --token-lifetime <s>      lifetime of the access and id tokens login2 issues (default 3600)
  --quiet                   print only the start banner
  -h, --help`;

export interface CommandIo {
	out(line: string): void;
	err(line: string): void;
	/** Stops the command (tests); SIGINT/SIGTERM do the same. */
	signal?: AbortSignal;
	/** The environment (passwords); default process.env. */
	env?: NodeJS.ProcessEnv;
	/** Called once the cloud is up (tests). */
	onReady?(cloud: Cloud): void;
}

const consoleIo: CommandIo = {out: line => console.log(line), err: line => console.error(line)};

const UsageError = CliUsageError;

function port(value: string | undefined, name: string, fallback: number): number {
	if (value === undefined) return fallback;
	if (!/^\d+$/.test(value) || Number(value) > 65535)
		throw new UsageError(`--${name}: "${value}" is not a port number (0..65535)`);
	return Number(value);
}

function readText(path: string, name: string): string {
	try {
		return readFileSync(path, "utf8");
	} catch (error) {
		throw new FileError(
			`--${name} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give the path of a PEM file`,
		);
	}
}

export async function cloudCommand(argv: string[], io: CommandIo = consoleIo): Promise<number> {
	let options: CloudOptions;
	let images: string[];
	let jobNodes: string[];
	let values: Record<string, string | boolean | string[] | undefined>;
	let users: CloudUser[];
	let generatedPassword: string | undefined;
	let warnPassword = false;
	try {
		({values} = parseArgs({
			args: argv,
			strict: true,
			allowPositionals: false,
			options: {
				host: {type: "string"},
				"allow-plain-on-network": {type: "boolean"},
				"advertise-host": {type: "string"},
				"password-file": {type: "string"},
				"mqtt-port": {type: "string"},
				"http-port": {type: "string"},
				"mqtts-port": {type: "string"},
				"https-port": {type: "string"},
				"tls-key": {type: "string"},
				"tls-cert": {type: "string"},
				"tls-ca": {type: "string"},
				"ota-url-scheme": {type: "string"},
				image: {type: "string", multiple: true},
				"job-node": {type: "string", multiple: true},
				"user-approval": {type: "boolean"},
				"force-push": {type: "boolean"},
				stream: {type: "boolean"},
				"failed-terminal": {type: "boolean"},
				user: {type: "string", multiple: true},
				password: {type: "string", multiple: true},
				"plain-mqtt": {type: "boolean"},
				"token-lifetime": {type: "string"},
				quiet: {type: "boolean"},
				help: {type: "boolean", short: "h"},
			},
		}));
		if (values.help) {
			io.out(cloudUsage);
			return 0;
		}
		const key = values["tls-key"] as string | undefined;
		const cert = values["tls-cert"] as string | undefined;
		const ca = values["tls-ca"] as string | undefined;
		if ((key === undefined) !== (cert === undefined)) throw new UsageError("--tls-key and --tls-cert go together");
		if (ca !== undefined && key === undefined) throw new UsageError("--tls-ca needs --tls-key and --tls-cert");
		const scheme = values["ota-url-scheme"] as string | undefined;
		if (scheme !== undefined && scheme !== "http" && scheme !== "https")
			throw new UsageError(`--ota-url-scheme: "${scheme}" is neither http nor https`);
		if (scheme === "https" && key === undefined)
			throw new UsageError("--ota-url-scheme https needs --tls-key and --tls-cert");
		images = (values.image as string[] | undefined) ?? [];
		images.forEach(checkImageFile); // before any listener starts
		jobNodes = (values["job-node"] as string[] | undefined) ?? [];
		if (jobNodes.length > 0 && images.length === 0) throw new UsageError("--job-node needs an --image");
		if ((values["user-approval"] || values["force-push"] || values.stream) && jobNodes.length === 0)
			throw new UsageError("--user-approval, --force-push and --stream apply to the job of --job-node");
		if (values["plain-mqtt"] && ca === undefined)
			throw new UsageError("--plain-mqtt applies only with --tls-ca (without it the plain listener runs anyway)");
		const passwords = (values.password as string[] | undefined) ?? [];
		({users, generated: generatedPassword} = cliUsers(
			(values.user as string[] | undefined) ?? [],
			passwords,
			values["password-file"] as string | undefined,
			io.env ?? process.env,
		));
		warnPassword = passwords.length > 0;
		const plainMqtt = ca === undefined || values["plain-mqtt"] === true;
		const addresses = listenAddresses(
			(values.host as string | undefined) ?? "127.0.0.1",
			plainMqtt,
			values["allow-plain-on-network"] === true,
			values["advertise-host"] as string | undefined,
		);
		if (users.some(user => user.userName.trim() === "" || user.password === ""))
			throw new UsageError("--user and --password must not be empty");
		const names = users.map(user => user.userName.toLowerCase());
		const twice = names.find((name, index) => names.indexOf(name) !== index);
		if (twice !== undefined) throw new UsageError(`--user ${twice} is given twice`);
		const lifetimeText = values["token-lifetime"] as string | undefined;
		if (lifetimeText !== undefined && (!/^\d+$/.test(lifetimeText) || Number(lifetimeText) < 1))
			throw new UsageError(`--token-lifetime: "${lifetimeText}" is not a whole number of seconds (1 or more)`);
		const lifetime = lifetimeText !== undefined ? Number(lifetimeText) : undefined;
		const quiet = values.quiet === true;
		options = {
			host: addresses.host,
			advertisedHost: addresses.advertisedHost,
			mqttPort: port(values["mqtt-port"] as string | undefined, "mqtt-port", DEFAULT_MQTT_PORT),
			httpPort: port(values["http-port"] as string | undefined, "http-port", DEFAULT_HTTP_PORT),
			...(key !== undefined && cert !== undefined
				? {
						tls: {
							key: readText(key, "tls-key"),
							cert: readText(cert, "tls-cert"),
							...(ca !== undefined ? {ca: readText(ca, "tls-ca")} : {}),
						},
						mqttsPort: port(values["mqtts-port"] as string | undefined, "mqtts-port", DEFAULT_MQTTS_PORT),
						httpsPort: port(values["https-port"] as string | undefined, "https-port", DEFAULT_HTTPS_PORT),
					}
				: {}),
			...(scheme !== undefined ? {otaUrlScheme: scheme} : {}),
			users,
			...(values["plain-mqtt"] ? {plainMqtt: true} : {}),
			...(lifetime !== undefined ? {tokenLifetimeSeconds: lifetime} : {}),
			failedIsTerminal: values["failed-terminal"] === true,
			...(quiet ? {} : {log: (line: string) => io.out(`${new Date().toISOString()} ${line}`)}),
		};
	} catch (error) {
		// One line (docs/host-tools.md, "Bad input"): what is wrong, what to do.
		const hint = error instanceof FileError ? "" : " (rainmaker-ota-xs cloud --help lists the options)";
		io.err(`rainmaker-ota-xs cloud: ${(error as Error).message}${hint}`);
		return 2;
	}
	if (warnPassword)
		io.err(
			`rainmaker-ota-xs cloud: --password shows in ps to every user of this machine; --password-file or $${PASSWORDS_ENV} do not`,
		);
	let cloud: Cloud;
	try {
		cloud = await startCloud(options);
	} catch (error) {
		const refused = listenRefusal(error as NodeJS.ErrnoException, options);
		io.err(`rainmaker-ota-xs cloud: ${refused ?? (error as Error).message}`);
		return refused !== undefined ? 2 : 1;
	}
	try {
		let last: OtaImage | undefined;
		for (const path of images) {
			last = await cloud.addImage(path).catch((error: Error) => {
				throw new BadImageError(`--image ${path}: ${error.message}: give an app image built for the node`);
			});
			io.out(
				`image ${last.id}: ${last.name} ${last.fwVersion} (${last.model}, ${last.fileSize} bytes) at ${cloud.imageUrl(last)}`,
			);
		}
		if (last && jobNodes.length > 0) {
			const job = await cloud.createJob({
				imageId: last.id,
				nodes: jobNodes,
				userApproval: values["user-approval"] === true,
				forcePush: values["force-push"] === true,
				...(values.stream === true ? {stream: true} : {}),
			});
			io.out(
				`job ${job.id} for ${job.nodes.join(", ")}${job.stream ? ` (stream job: stream_id ${job.id})` : ""}`,
			);
		}
	} catch (error) {
		io.err(`rainmaker-ota-xs cloud: ${(error as Error).message}`);
		await cloud.close();
		return error instanceof BadImageError ? 2 : 1;
	}
	io.out(
		`MQTT ${[cloud.mqttUrl, cloud.mqttsUrl].filter(Boolean).join(", ")}; REST ${cloud.httpUrl}${cloud.httpsUrl ? `, ${cloud.httpsUrl}` : ""}; downloads ${cloud.downloadBaseUrl}`,
	);
	const first = users[0]!;
	io.out(`users: ${users.map(user => user.userName).join(", ")} (${first.userName} owns the nodes and is the admin)`);
	io.out(
		`log in: rainmaker-ota-xs app login --base-url ${cloud.httpUrl} --user ${first.userName} --password ${generatedPassword ?? "<its --password>"}`,
	);
	io.out(
		`  or POST ${cloud.httpUrl}login2 {"user_name":"${first.userName}","password":"${generatedPassword ?? "…"}"}; the app SDK: baseUrl ${cloud.httpUrl.replace(/\/v1\/$/, "")}`,
	);
	// The page is bundled now, so the first visitor does not wait and a broken build shows at once.
	await webAssets().then(
		() => io.out(`web page ${new URL("/", cloud.httpUrl)} (docs/web-app.md): sign in as ${first.userName}`),
		(error: Error) => io.err(`rainmaker-ota-xs cloud: the web page is unavailable: ${error.message}`),
	);
	io.onReady?.(cloud);
	await new Promise<void>(resolve => {
		const stop = () => {
			process.off("SIGINT", stop);
			process.off("SIGTERM", stop);
			io.signal?.removeEventListener("abort", stop);
			resolve();
		};
		process.on("SIGINT", stop);
		process.on("SIGTERM", stop);
		if (io.signal?.aborted) stop();
		io.signal?.addEventListener("abort", stop);
	});
	await cloud.close();
	return 0;
}
