/* Stand-in of Moddable's "debug": gc() asks Node's collector when it is exposed, else does nothing. */
export default class Debug {
	static gc(): void {
		(globalThis as {gc?: () => void}).gc?.();
	}
}
