/*
 * A throw-away PKI for tests and the local cloud: one CA, a server certificate for loopback
 * (SAN IP:127.0.0.1 and DNS:localhost) and a client certificate whose CN is the node id, as
 * RainMaker nodes authenticate with mutual X.509. Generated with the `openssl` CLI so the files are
 * ordinary PEM files that any TLS stack (Node, mbedTLS on the device) reads.
 */
import {execFileSync} from "node:child_process";
import {mkdirSync, readFileSync, writeFileSync, existsSync} from "node:fs";
import {join} from "node:path";

export interface TestPkiPaths {
	caCert: string;
	caKey: string;
	serverCert: string;
	serverKey: string;
	clientCert: string;
	clientKey: string;
	/** The client key as unencrypted PKCS#8 DER (the form some device key stores want). */
	clientKeyPkcs8Der: string;
}

export interface TestPki {
	/** PEM texts. */
	caCert: string;
	serverCert: string;
	serverKey: string;
	clientCert: string;
	clientKey: string;
	clientKeyPkcs8Der: Buffer;
	/** The CN of the client certificate. */
	nodeId: string;
	paths: TestPkiPaths;
}

export interface TestPkiOptions {
	/** CN of the client certificate (the node id). Default "test-node". */
	nodeId?: string;
	/** Validity in days. Default 30. */
	days?: number;
	/**
	 * More DNS names for the server certificate's subjectAltName, besides localhost. The QEMU demo adds
	 * "10.0.2.2" (the host as seen from the guest): Moddable's TLS matches the server name it connects
	 * to against DNS names only, so an IP address it connects to must be written as a DNS name.
	 */
	serverNames?: string[];
}

function openssl(args: string[], cwd: string): void {
	try {
		execFileSync("openssl", args, {cwd, stdio: ["ignore", "pipe", "pipe"]});
	} catch (error) {
		const stderr = (error as {stderr?: Buffer}).stderr?.toString() ?? "";
		throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`, {cause: error});
	}
}

/**
 * Creates the files in `dir` (created if missing) and returns their contents and paths. Calling it
 * again for the same directory and node id reuses the files, so parallel users of one directory
 * see one PKI.
 */
export function makeTestPki(dir: string, nodeIdOrOptions?: string | TestPkiOptions): TestPki {
	const options: TestPkiOptions =
		typeof nodeIdOrOptions === "string" ? {nodeId: nodeIdOrOptions} : (nodeIdOrOptions ?? {});
	const nodeId = options.nodeId ?? "test-node";
	if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId))
		throw new Error(`makeTestPki: node id ${JSON.stringify(nodeId)} must be 1..64 characters of A-Z a-z 0-9 . _ -`);
	const days = String(options.days ?? 30);
	mkdirSync(dir, {recursive: true});
	const paths: TestPkiPaths = {
		caCert: join(dir, "ca.crt"),
		caKey: join(dir, "ca.key"),
		serverCert: join(dir, "server.crt"),
		serverKey: join(dir, "server.key"),
		clientCert: join(dir, `client-${nodeId}.crt`),
		clientKey: join(dir, `client-${nodeId}.key`),
		clientKeyPkcs8Der: join(dir, `client-${nodeId}.key.der`),
	};
	if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) {
		openssl(
			[
				"req",
				"-x509",
				"-newkey",
				"rsa:2048",
				"-nodes",
				"-keyout",
				paths.caKey,
				"-out",
				paths.caCert,
				"-days",
				days,
				"-subj",
				"/CN=rainmaker-ota-xs test CA",
				"-addext",
				"basicConstraints=critical,CA:TRUE",
				"-addext",
				"keyUsage=critical,keyCertSign,cRLSign",
			],
			dir,
		);
	}
	if (!existsSync(paths.serverCert) || !existsSync(paths.serverKey))
		issue(
			dir,
			paths,
			paths.serverKey,
			paths.serverCert,
			"/CN=localhost",
			`subjectAltName=IP:127.0.0.1,DNS:localhost${(options.serverNames ?? []).map(name => `,DNS:${name}`).join("")}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
			days,
			"server",
		);
	if (!existsSync(paths.clientCert) || !existsSync(paths.clientKey))
		issue(
			dir,
			paths,
			paths.clientKey,
			paths.clientCert,
			`/CN=${nodeId}`,
			"extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n",
			days,
			`client-${nodeId}`,
		);
	if (!existsSync(paths.clientKeyPkcs8Der))
		openssl(
			["pkcs8", "-topk8", "-nocrypt", "-in", paths.clientKey, "-outform", "DER", "-out", paths.clientKeyPkcs8Der],
			dir,
		);
	return {
		caCert: readFileSync(paths.caCert, "utf8"),
		serverCert: readFileSync(paths.serverCert, "utf8"),
		serverKey: readFileSync(paths.serverKey, "utf8"),
		clientCert: readFileSync(paths.clientCert, "utf8"),
		clientKey: readFileSync(paths.clientKey, "utf8"),
		clientKeyPkcs8Der: readFileSync(paths.clientKeyPkcs8Der),
		nodeId,
		paths,
	};
}

/** Key + CSR + certificate signed by the CA, with the given X.509 v3 extensions. */
function issue(
	dir: string,
	paths: TestPkiPaths,
	keyPath: string,
	certPath: string,
	subject: string,
	extensions: string,
	days: string,
	stem: string,
): void {
	const csrPath = join(dir, `${stem}.csr`);
	const extPath = join(dir, `${stem}.ext`);
	writeFileSync(extPath, extensions);
	openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", csrPath, "-subj", subject], dir);
	signByCa(dir, paths, csrPath, certPath, days, ["-extfile", extPath]);
}

/** The CA signs a CSR into a certificate (SHA-256, `days` valid), with extra `openssl x509` arguments. */
function signByCa(
	dir: string,
	paths: TestPkiPaths,
	csrPath: string,
	certPath: string,
	days: string,
	extra: readonly string[] = [],
): void {
	openssl(
		[
			"x509",
			"-req",
			"-in",
			csrPath,
			"-CA",
			paths.caCert,
			"-CAkey",
			paths.caKey,
			"-CAcreateserial",
			"-out",
			certPath,
			"-days",
			days,
			"-sha256",
			...extra,
		],
		dir,
	);
}

/**
 * A client key and certificate as `esp-rainmaker-cli claim` makes them by default: an EC P-256 key
 * in PKCS#8 PEM (`openssl genpkey`), with a certificate for `/CN=<nodeId>` signed by the PKI's CA.
 * Written into `dir` (ec-client.key, ec-client.crt); an existing key is reused.
 */
export function issueEcClient(
	dir: string,
	paths: TestPkiPaths,
	nodeId: string,
	days = 30,
): {key: string; cert: string} {
	mkdirSync(dir, {recursive: true});
	const keyPath = join(dir, "ec-client.key");
	const certPath = join(dir, "ec-client.crt");
	if (!existsSync(keyPath))
		openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyPath], dir);
	openssl(["req", "-new", "-key", keyPath, "-subj", `/CN=${nodeId}`, "-out", join(dir, "ec-client.csr")], dir);
	signByCa(dir, paths, join(dir, "ec-client.csr"), certPath, String(days));
	return {key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8")};
}
