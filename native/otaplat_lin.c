/*
 * The lin (mcsim) build's stand-in for what the ESP32 has in flash and ROM, called through XS FFI:
 * - the flash: one file of the flash size, $RMX_FLASH_DIR/flash.bin, the same file the host
 *   simulator uses (host/adapters/flash.ts), with NOR semantics: erase sets 4 KiB sectors to 0xFF,
 *   a write can only clear bits (the file gets old AND new), every operation reaches the file
 *   before it returns (pwrite: the kernel has it, so ending mcsim at any point, the simulated
 *   power cut, leaves the flash torn at operation granularity, as on a chip); fdatasync, which
 *   only guards against a crash of the host itself, is an ordering barrier: before each NVS commit
 *   (a resume checkpoint or a boot record never names flash bytes the host could still lose) and
 *   at restart, not after each operation (it was most of the firmware's own CPU time of a
 *   download, and its wall time: bench/README.md, benchmark 9); the partition table, otadata,
 *   bootloader and esp_ota rules on top are the platform-neutral idf/ modules, in JavaScript;
 * - small files of the node next to it ($RMX_FLASH_DIR/<name>: nvs.json, flash.bin.efuse.json),
 *   replaced atomically (write a temporary file, fsync, rename), as NVS commits an item or not;
 * - a restart or rollback ends mcsim with OTAPLAT_REBOOT_EXIT_CODE, which the supervisor
 *   (`rainmaker-ota-xs lin`) takes as a reset and starts mcsim again, as the host simulator does;
 * - the console: lines on mcsim's standard input, read without blocking.
 * The signatures are listed in manifest.json (platforms.lin.ffi.functions).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OTAPLAT_REBOOT_EXIT_CODE 3
#define SECTOR_SIZE 4096

static int gFlash = -1;
static uint32_t gFlashSize;
/* Flash operations since the last fdatasync. */
static int gFlashDirty;

/* Makes the flash file's operations so far durable on the host (the barrier before an NVS commit). */
static int32_t syncFlash(void)
{
	if ((gFlash < 0) || !gFlashDirty)
		return 0;
	if (fdatasync(gFlash))
		return -errno;
	gFlashDirty = 0;
	return 0;
}

static const char *flashDir(void)
{
	const char *dir = getenv("RMX_FLASH_DIR");
	return (dir && *dir) ? dir : NULL;
}

static int pathOf(char *out, size_t size, const char *name)
{
	const char *dir = flashDir();
	if (!dir || !name || strchr(name, '/'))
		return -1;
	return (snprintf(out, size, "%s/%s", dir, name) < (int)size) ? 0 : -1;
}

/* Opens $RMX_FLASH_DIR/flash.bin. Returns its size, or -1 when RMX_FLASH_DIR is unset, -errno otherwise. */
int32_t otaplat_flash_open(void)
{
	char path[1024];
	struct stat info;
	if (gFlash >= 0)
		return (int32_t)gFlashSize;
	if (!flashDir())
		return -1;
	if (pathOf(path, sizeof(path), "flash.bin"))
		return -ENAMETOOLONG;
	gFlash = open(path, O_RDWR);
	if (gFlash < 0)
		return -errno;
	if (fstat(gFlash, &info) || (info.st_size <= 0) || (info.st_size % SECTOR_SIZE) || (info.st_size > 0x7FFFFFFF)) {
		close(gFlash);
		gFlash = -1;
		return -EINVAL;
	}
	gFlashSize = (uint32_t)info.st_size;
	return (int32_t)gFlashSize;
}

static int32_t inFlash(uint32_t offset, uint32_t length)
{
	if (gFlash < 0)
		return -EBADF;
	if ((offset > gFlashSize) || (length > gFlashSize - offset))
		return -EINVAL;
	return 0;
}

static int32_t readAll(uint8_t *data, uint32_t offset, uint32_t length)
{
	while (length) {
		ssize_t count = pread(gFlash, data, length, offset);
		if (count <= 0)
			return count < 0 ? -errno : -EIO;
		data += count;
		offset += (uint32_t)count;
		length -= (uint32_t)count;
	}
	return 0;
}

static int32_t writeAll(const uint8_t *data, uint32_t offset, uint32_t length)
{
	while (length) {
		ssize_t count = pwrite(gFlash, data, length, offset);
		if (count <= 0)
			return count < 0 ? -errno : -EIO;
		data += count;
		offset += (uint32_t)count;
		length -= (uint32_t)count;
		gFlashDirty = 1;
	}
	return 0;
}

int32_t otaplat_flash_read(uint32_t offset, uint8_t *buffer, uint32_t bufferOffset, uint32_t length)
{
	int32_t error = inFlash(offset, length);
	return error ? error : readAll(buffer + bufferOffset, offset, length);
}

/* Programs bytes: each byte becomes old AND new, as NOR flash. */
int32_t otaplat_flash_write(uint32_t offset, uint8_t *buffer, uint32_t bufferOffset, uint32_t length)
{
	uint8_t *merged;
	uint32_t i;
	int32_t error = inFlash(offset, length);
	if (error || !length)
		return error;
	merged = malloc(length);
	if (!merged)
		return -ENOMEM;
	error = readAll(merged, offset, length);
	if (!error) {
		for (i = 0; i < length; i++)
			merged[i] &= buffer[bufferOffset + i];
		error = writeAll(merged, offset, length);
	}
	free(merged);
	return error;
}

int32_t otaplat_flash_erase(uint32_t offset, uint32_t length)
{
	uint8_t erased[SECTOR_SIZE];
	int32_t error = inFlash(offset, length);
	if (error)
		return error;
	if ((offset % SECTOR_SIZE) || (length % SECTOR_SIZE))
		return -EINVAL;
	memset(erased, 0xFF, sizeof(erased));
	for (; length; offset += SECTOR_SIZE, length -= SECTOR_SIZE) {
		gFlashDirty = 1;
		if (pwrite(gFlash, erased, SECTOR_SIZE, offset) != SECTOR_SIZE)
			return -EIO;
	}
	return 0;
}

/* Size of $RMX_FLASH_DIR/<name>, -ENOENT when it does not exist, another -errno on error. */
int32_t otaplat_file_size(char *name)
{
	char path[1024];
	struct stat info;
	if (pathOf(path, sizeof(path), name))
		return -EINVAL;
	if (stat(path, &info))
		return -errno;
	return (info.st_size > 0x7FFFFFFF) ? -EFBIG : (int32_t)info.st_size;
}

int32_t otaplat_file_read(char *name, uint8_t *buffer, uint32_t bufferOffset, uint32_t length)
{
	char path[1024];
	int fd;
	ssize_t count;
	if (pathOf(path, sizeof(path), name))
		return -EINVAL;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	count = read(fd, buffer + bufferOffset, length);
	close(fd);
	return count < 0 ? -errno : (int32_t)count;
}

/*
 * Replaces $RMX_FLASH_DIR/<name> atomically: a kill leaves the old or the new file. The flash
 * file's operations so far are made durable first, so the new record never names flash bytes
 * that a crash of the host could still lose.
 */
int32_t otaplat_file_write(char *name, uint8_t *buffer, uint32_t bufferOffset, uint32_t length)
{
	char path[1024], temporary[1100];
	int fd;
	int32_t error = 0;
	const uint8_t *data = buffer + bufferOffset;
	if (pathOf(path, sizeof(path), name))
		return -EINVAL;
	error = syncFlash();
	if (error)
		return error;
	snprintf(temporary, sizeof(temporary), "%s.tmp", path);
	fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	while (length && !error) {
		ssize_t count = write(fd, data, length);
		if (count <= 0)
			error = count < 0 ? -errno : -EIO;
		else {
			data += count;
			length -= (uint32_t)count;
		}
	}
	if (!error && fsync(fd))
		error = -errno;
	close(fd);
	if (!error && rename(temporary, path))
		error = -errno;
	return error;
}

void otaplat_restart(void)
{
	fprintf(stdout, "otaplat: restart, exiting with %d for the supervisor\n", OTAPLAT_REBOOT_EXIT_CODE);
	fflush(stdout);
	syncFlash();
	exit(OTAPLAT_REBOOT_EXIT_CODE);
}

/* Reads what is available on standard input, without blocking: bytes read, 0 for none, -1 at end of input. */
int32_t otaplat_console_read(uint8_t *buffer, uint32_t bufferOffset, uint32_t length)
{
	static int configured;
	ssize_t count;
	if (!configured) {
		int flags = fcntl(0, F_GETFL);
		if (flags >= 0)
			fcntl(0, F_SETFL, flags | O_NONBLOCK);
		configured = 1;
	}
	count = read(0, buffer + bufferOffset, length);
	if (count < 0)
		return ((errno == EAGAIN) || (errno == EWOULDBLOCK)) ? 0 : -1;
	return count == 0 ? -1 : (int32_t)count;
}
