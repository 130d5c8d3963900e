/*
 * State of the stand-ins that tests inspect. Mocha may load a test file (and what it imports)
 * through tsx's CommonJS path while device code imports the same stand-in as ES module: two
 * module instances. Keeping the state on globalThis under a registered symbol makes both share it.
 */
export function sharedState<T>(name: string, create: () => T): T {
	const store = globalThis as unknown as {[key: symbol]: unknown};
	const key = Symbol.for(`rainmaker-ota-xs.moddable-stand-in.${name}`);
	if (!(key in store)) store[key] = create();
	return store[key] as T;
}
