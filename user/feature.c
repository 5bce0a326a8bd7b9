// SPDX-License-Identifier: GPL-2.0-only
/*
 * The feature registry and the generic attach / detach / status / stats
 * flow.  Attach is all-or-nothing: features attach in table order and, on
 * any failure, the ones already attached are detached in reverse order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "accel.h"
#include "accel_abi.h"
#include "bpfutil.h"
#include "log.h"
#include "pin.h"
#include "state.h"
#include "status_model.h"
#include "sysenv.h"

extern const struct accel_feature feature_tune;
extern const struct accel_feature feature_tcpstate;
extern const struct accel_feature feature_netacct;
extern const struct accel_feature feature_bypass;

/* Attach order: tuning first (the others run on a tuned host), the bypass
 * last (it changes data paths, so everything that observes is in place
 * first); detach runs the other way round. */
const struct accel_feature *const features[] = {
	&feature_tune,
	&feature_tcpstate,
	&feature_netacct,
	&feature_bypass,
};
const int nfeatures = ARRAY_SIZE(features);

const struct accel_feature *feature_by_name(const char *name)
{
	for (int i = 0; i < nfeatures; i++)
		if (!strcmp(features[i]->name, name))
			return features[i];
	return NULL;
}

int feature_index(const struct accel_feature *f)
{
	for (int i = 0; i < nfeatures; i++)
		if (features[i] == f)
			return i;
	return -1;
}

int features_parse(const char *list, unsigned int *mask, char *err, size_t errlen)
{
	char buf[256], *tok, *save = NULL;

	*mask = 0;
	if (!list || !*list || strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "empty feature list");
		return -EINVAL;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct accel_feature *f = feature_by_name(tok);

		if (!strcmp(tok, "all")) {
			*mask |= (1u << nfeatures) - 1;
			continue;
		}
		if (!f) {
			snprintf(err, errlen, "unknown feature '%s' (known: bypass, netacct, tcpstate, tune, all)", tok);
			return -EINVAL;
		}
		*mask |= 1u << feature_index(f);
	}
	return 0;
}

int feature_pin_dir(const struct accel_ctx *ctx, const struct accel_feature *f,
		    char *buf, size_t len)
{
	return path_join(buf, len, ctx->pin_root, f->name);
}

bool feature_pins_exist(const struct accel_ctx *ctx, const struct accel_feature *f)
{
	char dir[PATH_MAX];

	return !feature_pin_dir(ctx, f, dir, sizeof(dir)) && path_exists(dir);
}

int pin_dir_remove(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	/* Links first: unpinning a link detaches its program while the maps
	 * it uses are still pinned. */
	for (int pass = 0; pass < 2; pass++) {
		rewinddir(d);
		while ((de = readdir(d))) {
			bool is_link = !strncmp(de->d_name, ACCEL_PIN_LINK_PREFIX,
						strlen(ACCEL_PIN_LINK_PREFIX));

			if (de->d_name[0] == '.' || is_link != (pass == 0))
				continue;
			if (path_join(path, sizeof(path), dir, de->d_name))
				continue;
			if (unlink(path) && errno != ENOENT) {
				err = -errno;
				pr_err("cannot unpin %s: %s\n", path, strerror(-err));
			}
		}
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

int feature_unpin_all(const struct accel_ctx *ctx, const struct accel_feature *f)
{
	char dir[PATH_MAX];

	if (feature_pin_dir(ctx, f, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	return pin_dir_remove(dir);
}

/* ---- instance record ------------------------------------------------ */

_Static_assert(sizeof(((struct instance_info *)0)->netns) >= NETNS_SPEC_MAX,
	       "the instance record keeps any --netns");

static int instance_path(const struct accel_ctx *ctx, char *buf, size_t len)
{
	return path_join(buf, len, ctx->state_dir, "instance");
}

/* Version 0, before user/state.c: the same keys, unescaped, read
 * leniently (unknown keys and lines skipped).  Kept so that an upgrade
 * finds the instance it attached. */
static int instance_legacy(char *text, unsigned int version, void *rec, struct state_err *err)
{
	struct instance_info *ii = rec;
	char *line, *save = NULL;
	bool have_abi = false;
	uint64_t v;

	if (version)
		return state_fail(err, 1, "instance record version %u was never written", version);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq++ = '\0';
		if (!strcmp(line, "features"))
			ii->features = strtoul(eq, NULL, 0);
		else if (!strcmp(line, "since"))
			ii->since = strtoll(eq, NULL, 10);
		else if (!strcmp(line, "netns"))
			snprintf(ii->netns, sizeof(ii->netns), "%s", eq);
		else if (!strcmp(line, "netns_cookie"))
			ii->netns_cookie = strtoull(eq, NULL, 10);
		else if (!strcmp(line, "pin_root"))
			snprintf(ii->pin_root, sizeof(ii->pin_root), "%s", eq);
		else if (!strcmp(line, "detaching"))
			ii->detaching = !strcmp(eq, "1");
		else if (!strcmp(line, "abi")) {
			/* unreadable: 0, which no accelctl has */
			ii->abi = parse_u64(eq, 1, UINT32_MAX, &v) ? 0 : (unsigned int)v;
			have_abi = true;
		}
	}
	/* Records older than the abi= line were all made by ABI 1. */
	if (!have_abi)
		ii->abi = 1;
	return 0;
}

static const struct state_field instance_fields[] = {
	STATE_F_U64("features", struct instance_info, features, STATE_REQUIRED, 0, 0),
	STATE_F_I64("since", struct instance_info, since, STATE_REQUIRED),
	STATE_F_STR("netns", struct instance_info, netns, STATE_REQUIRED),
	STATE_F_U64("netns_cookie", struct instance_info, netns_cookie, STATE_REQUIRED, 0, 0),
	STATE_F_STR("pin_root", struct instance_info, pin_root, 0),
	STATE_F_U64("abi", struct instance_info, abi, STATE_REQUIRED, 1, UINT32_MAX),
	STATE_F_BOOL("detaching", struct instance_info, detaching, 0),
};

const struct state_kind instance_record_kind = {
	.name = "instance", .version = 1,
	.fields = instance_fields, .nfields = ARRAY_SIZE(instance_fields),
	.size = sizeof(struct instance_info), .legacy = instance_legacy,
};

static int instance_load(const struct accel_ctx *ctx, struct instance_info *ii, struct state_err *err)
{
	char path[PATH_MAX];

	memset(ii, 0, sizeof(*ii));
	if (instance_path(ctx, path, sizeof(path)))
		return -ENAMETOOLONG;
	return state_read(&instance_record_kind, path, ii, err);
}

int instance_read(const struct accel_ctx *ctx, struct instance_info *ii)
{
	struct state_err err;

	return instance_load(ctx, ii, &err);
}

int instance_write(const struct accel_ctx *ctx, const struct instance_info *ii)
{
	struct instance_info rec = *ii;
	char path[PATH_MAX];
	int err;

	err = mkdir_p(ctx->state_dir, 0700);
	if (err)
		return err;
	if (instance_path(ctx, path, sizeof(path)))
		return -ENAMETOOLONG;
	snprintf(rec.pin_root, sizeof(rec.pin_root), "%s", ctx->pin_root);
	return state_write(&instance_record_kind, path, &rec);
}

/* The pinned maps' layouts are ACCEL_ABI_VERSION's: an accelctl of another
 * ABI would read (stats), fill (attach) or interpret (detach) them wrong. */
int instance_check_abi(const struct accel_ctx *ctx, const char *cmd)
{
	struct instance_info ii;
	struct state_err serr;
	int err = instance_load(ctx, &ii, &serr);

	if ((err && err != -EINVAL) || (!err && ii.abi == ACCEL_ABI_VERSION))
		return 0;
	if (err) {
		/* what cannot be read cannot be trusted to match our maps */
		pr_err("%s: the instance record is unreadable: %s\n", cmd, serr.msg);
		pr_err("%s: the attached instance (state dir %s, pin root %s) therefore counts as BPF ABI version 0; this accelctl has ABI version %u and cannot use its pinned maps.\n"
		       "Fix: run `accelctl detach --force` to remove it, then attach again.\n",
		       cmd, ctx->state_dir, ctx->pin_root, ACCEL_ABI_VERSION);
		return -ACCEL_ECONFIG;
	}
	pr_err("%s: the attached instance (state dir %s, pin root %s) was made by an accelctl with BPF ABI version %u; this accelctl has ABI version %u and cannot use its pinned maps.\n"
		"Fix: run `accelctl detach` with the accelctl that attached it, or `accelctl detach --force` with this one to remove it anyway.\n",
		cmd, ctx->state_dir, ctx->pin_root, ii.abi, ACCEL_ABI_VERSION);
	return -ACCEL_ECONFIG;
}

void instance_remove(const struct accel_ctx *ctx)
{
	char path[PATH_MAX];

	if (!instance_path(ctx, path, sizeof(path)))
		unlink(path);
	rmdir_if_empty(ctx->state_dir);
}

/* ---- can we see it at all ------------------------------------------ */

static bool denied(int err)
{
	return err == -EACCES || err == -EPERM;
}

static int access_denied(const char *cmd, const char *what, const char *path, int err)
{
	pr_err("%s: cannot read %s %s: %s; without it accelctl cannot tell what is attached, "
	       "so it reports nothing rather than \"not attached\" or zeros.\n"
	       "Fix: run it as root (e.g. `sudo accelctl %s`), or with CAP_DAC_OVERRIDE (the pins and "
	       "records are root's, mode 0600), CAP_SYS_ADMIN when attach used --netns, and CAP_BPF on "
	       "kernels whose kernel.unprivileged_bpf_disabled keeps bpf(2) from users.\n",
	       cmd, what, path, strerror(-err), cmd);
	return -EACCES;
}

/* Every entry of dir: subdirectories opened, files opened (bpffs pins
 * with bpf(2), the state dir's records with open(2)).  0, -EACCES/-EPERM
 * with bad filled, or another -errno (ignored by the caller: status says
 * what it can). */
static int probe_dir(const char *dir, bool pins, int depth, char *bad, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		err = -errno;
		snprintf(bad, len, "%s", dir);
		return err == -ENOENT ? 0 : err;
	}
	while (!err && (de = readdir(d))) {
		struct stat st;
		int fd;

		if (de->d_name[0] == '.' || path_join(path, sizeof(path), dir, de->d_name) ||
		    lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth > 0)
				err = probe_dir(path, pins, depth - 1, bad, len);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		fd = pins ? bpf_obj_get(path) : open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && denied(-errno)) {
			err = -errno;
			snprintf(bad, len, "%s", path);
		}
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	return denied(err) ? err : 0;
}

/* dir itself, then what probe_dir() opens below it; what names dir in
 * the message, entry what is below it. */
static int check_tree(const char *cmd, const char *dir, bool pins, int depth, const char *what,
		      const char *entry)
{
	char bad[PATH_MAX];
	struct stat st;
	int err;

	/* A path we cannot even stat: EACCES from a parent (/sys/fs/bpf is
	 * 0700 root), unlike ENOENT, which means nothing is there. */
	if (stat(dir, &st) && denied(-errno))
		return access_denied(cmd, what, dir, -errno);
	err = probe_dir(dir, pins, depth, bad, sizeof(bad));
	if (denied(err))
		return access_denied(cmd, strcmp(bad, dir) ? entry : what, bad, err);
	return 0;
}

int accel_check_access(const struct accel_ctx *ctx, const char *cmd)
{
	int err = check_tree(cmd, ctx->state_dir, false, 0, "the state dir", "the state file");

	/* pin root: feature dirs, and the draining generations below them */
	return err ? err : check_tree(cmd, ctx->pin_root, true, 3, "the pin root", "the pinned object");
}

/* ---- attach / detach ------------------------------------------------ */

unsigned int features_attached(struct accel_ctx *ctx)
{
	unsigned int mask = 0;

	for (int i = 0; i < nfeatures; i++)
		if (features[i]->attached(ctx))
			mask |= 1u << i;
	return mask;
}

unsigned int features_kept(struct accel_ctx *ctx)
{
	unsigned int mask = 0;

	for (int i = 0; i < nfeatures; i++)
		if (features[i]->kept && features[i]->kept(ctx))
			mask |= 1u << i;
	return mask;
}

static void mask_names(unsigned int mask, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < nfeatures; i++)
		if (mask & (1u << i))
			str_appendf(buf, len, &off, "%s%s", off ? "," : "", features[i]->name);
	if (!off)
		snprintf(buf, len, "none");
}

static int detach_mask(struct accel_ctx *ctx, unsigned int mask)
{
	int err = 0;

	for (int i = nfeatures - 1; i >= 0; i--) {
		int e;

		if (!(mask & (1u << i)))
			continue;
		e = features[i]->detach(ctx);
		if (e) {
			pr_err("detaching %s failed: %s\n", features[i]->name, strerror(-e));
			if (!err)
				err = e;
		} else {
			pr_debug("detached %s\n", features[i]->name);
		}
	}
	return err;
}

static void reap_all(struct accel_ctx *ctx)
{
	for (int i = 0; i < nfeatures; i++)
		if (features[i]->reap)
			features[i]->reap(ctx);
}

void accel_reap_trylock(struct accel_ctx *ctx)
{
	int fd;

	if (!path_exists(ctx->pin_root) || pin_root_trylock(ctx->pin_root, &fd))
		return;
	reap_all(ctx);
	pin_root_unlock(&fd);
}

/* Undo what this process attached: like detach_mask, but a feature that
 * adopted kept state goes back to it (its rollback hook). */
static void rollback_mask(struct accel_ctx *ctx, unsigned int mask)
{
	for (int i = nfeatures - 1; i >= 0; i--) {
		const struct accel_feature *f = features[i];
		int e;

		if (!(mask & (1u << i)))
			continue;
		e = f->rollback ? f->rollback(ctx) : f->detach(ctx);
		if (e)
			pr_err("rolling back %s failed: %s\n", f->name, strerror(-e));
	}
}

/* The git commit accelctl was built from: main() sets it (accelctl.c
 * alone sees the generated header, so a commit rebuilds one object). */
const char *accel_build_commit = "unknown";

/* bpf(2) and BTF, before attach (or its dry run) looks at anything else. */
static int attach_kernel_check(void)
{
	char why[512];
	int err = kernel_check_bpf(why, sizeof(why));

	if (err)
		pr_err("cannot attach: %s\n", why);
	return err;
}

/*
 * attach --dry-run: the features attach would attach (the same probes,
 * the same --features rule), each one's plan, and nothing changed: no
 * lock, no pins, no record.  Exit as attach would for what it can tell
 * beforehand (a feature asked for that this host lacks, bad options).
 */
int accel_dry_run(struct accel_ctx *ctx)
{
	unsigned int want = ctx->attach.features_explicit ? ctx->attach.features : (1u << nfeatures) - 1;
	struct instance_info ii = { 0 };
	char why[512], names[128];
	int err;

	err = attach_kernel_check();
	if (err)
		return err;
	if (!instance_read(ctx, &ii) && !ii.detaching) {
		mask_names(ii.features, names, sizeof(names));
		printf("already attached (%s) with pin root %s: attach would change nothing\n", names, ctx->pin_root);
		return 0;
	}
	for (int i = 0; i < nfeatures; i++) {
		const struct accel_feature *f = features[i];

		if (!(want & (1u << i)))
			continue;
		why[0] = '\0';
		if (f->probe(ctx, why, sizeof(why))) {
			if (ctx->attach.features_explicit) {
				pr_err("feature %s is not available on this host: %s; attach would fail\n", f->name, why);
				return -EOPNOTSUPP;
			}
			printf("%s: would be skipped: %s\n", f->name, why);
			continue;
		}
		err = f->plan ? f->plan(ctx, stdout) : (printf("%s: would attach\n", f->name), 0);
		if (err)
			return err;
	}
	printf("dry run: nothing changed\n");
	return 0;
}

/*
 * Before attach starts, with the lock held: finish a detach that died
 * half-way, and undo what an attach that died half-way left (state kept
 * on purpose by detach --keep-tuning is no leftover: the feature's attach
 * adopts it, or accel_attach restores it).  0 to go on, 1 when attached
 * already (nothing to do), or -errno.
 */
static int attach_recover(struct accel_ctx *ctx)
{
	struct instance_info ii = { 0 };
	unsigned int stale;
	char names[128];
	int err;

	err = instance_check_abi(ctx, "attach");
	if (err)
		return err;
	reap_all(ctx);
	/* A record a detach marked and did not remove: that detach died
	 * half-way (what it had not undone yet is still attached).  Finish it. */
	if (!instance_read(ctx, &ii) && ii.detaching) {
		mask_names(ii.features & features_attached(ctx), names, sizeof(names));
		pr_warn("an earlier detach was interrupted; finishing it first (%s)\n", names);
		err = detach_mask(ctx, ii.features & features_attached(ctx));
		if (err)
			return err;
		instance_remove(ctx);
	}
	if (!instance_read(ctx, &ii)) {
		mask_names(ii.features, names, sizeof(names));
		pr_info("already attached (%s) with pin root %s; run `accelctl detach` first to attach with other settings\n",
			names, ctx->pin_root);
		return 1;
	}
	/* Pins (or a tuning journal) without an instance record: an earlier
	 * attach died half-way.  Undo what it left before starting over. */
	stale = features_attached(ctx) & ~features_kept(ctx);
	if (stale) {
		mask_names(stale, names, sizeof(names));
		pr_warn("found leftovers of an interrupted attach (%s); cleaning them up first\n", names);
		return detach_mask(ctx, stale);
	}
	return 0;
}

/* The features this attach attaches: those asked for (default: all) that
 * this host can run.  A feature asked for by name that it cannot run is
 * an error; without --features it is skipped. */
static int attach_select(struct accel_ctx *ctx, unsigned int *want)
{
	char why[512];
	int err;

	*want = ctx->attach.features_explicit ? ctx->attach.features : (1u << nfeatures) - 1;
	for (int i = 0; i < nfeatures; i++) {
		const struct accel_feature *f = features[i];

		if (!(*want & (1u << i)))
			continue;
		why[0] = '\0';
		err = f->probe(ctx, why, sizeof(why));
		if (!err)
			continue;
		if (ctx->attach.features_explicit) {
			pr_warn("feature %s is not available on this host: %s\n", f->name, why);
			return err;
		}
		pr_info("skipping %s: %s\n", f->name, why);
		*want &= ~(1u << i);
	}
	if (!*want) {
		pr_err("no feature can be attached on this host\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Attach each feature of want in table order; *done says which did. */
static int attach_mask(struct accel_ctx *ctx, unsigned int want, unsigned int *done)
{
	for (int i = 0; i < nfeatures; i++) {
		int err;

		if (!(want & (1u << i)))
			continue;
		err = features[i]->attach(ctx);
		if (err) {
			pr_err("attaching %s failed: %s\n", features[i]->name,
				err == -ACCEL_ECONFIG ? "invalid configuration" : strerror(-err));
			return err;
		}
		*done |= 1u << i;
	}
	return 0;
}

/* The instance record: what attached, since when, in which namespace. */
static int attach_record(struct accel_ctx *ctx, unsigned int done)
{
	struct instance_info ii = { 0 };
	int err;

	ii.features = done;
	ii.since = time(NULL);
	snprintf(ii.netns, sizeof(ii.netns), "%s", ctx->netns ? ctx->netns : "");
	ii.netns_cookie = ctx->netns_cookie;
	ii.abi = ACCEL_ABI_VERSION;
	err = instance_write(ctx, &ii);
	if (err)
		pr_err("cannot record the attachment in %s: %s\n", ctx->state_dir, strerror(-err));
	return err;
}

/* attach and detach: the pin root on bpffs (mounted on /sys/fs/bpf when
 * nothing is), created and locked, the lock in ctx->lock_fd. */
static int pin_root_take(struct accel_ctx *ctx)
{
	int err = bpffs_ensure(ctx->pin_root);

	return err ? err : pin_root_lock(ctx->pin_root, true, &ctx->lock_fd);
}

int accel_attach(struct accel_ctx *ctx)
{
	unsigned int want, done = 0, kept;
	char names[128];
	int err;

	err = attach_kernel_check();
	if (err)
		return err;
	err = pin_root_take(ctx);
	if (err)
		return err;

	err = attach_recover(ctx);
	if (err) {
		err = err > 0 ? 0 : err;
		goto unlock;
	}
	kept = features_kept(ctx);
	err = attach_select(ctx, &want);
	if (err)
		goto rollback;
	/* Kept state of a feature this attach leaves out: the host is to be
	 * as these features make it, so the originals go back first (before
	 * anything else changes: if that fails, nothing else was done). */
	if (kept & ~want) {
		mask_names(kept & ~want, names, sizeof(names));
		pr_info("this attach leaves out %s, kept by `detach --keep-tuning`: restoring the original values first\n",
			names);
		err = detach_mask(ctx, kept & ~want);
		if (err)
			goto rollback;
	}
	err = attach_mask(ctx, want, &done);
	if (!err)
		err = attach_record(ctx, done);
	if (err)
		goto rollback;
	mask_names(done, names, sizeof(names));
	pr_info("attached: %s (pin root %s)\n", names, ctx->pin_root);
	goto unlock;

rollback:
	if (done) {
		mask_names(done, names, sizeof(names));
		pr_warn("rolling back: %s\n", names);
		rollback_mask(ctx, done);
	}
	instance_remove(ctx);
	rmdir(ctx->pin_root);
unlock:
	pin_root_unlock(&ctx->lock_fd);
	return err;
}

/* detach --keep-tuning: mark what is kept (0, or the first error). */
static int keep_mask(struct accel_ctx *ctx, unsigned int keep)
{
	for (int i = 0; i < nfeatures; i++) {
		int err;

		if (!(keep & (1u << i)) || features[i]->kept(ctx))
			continue;
		err = features[i]->keep(ctx);
		if (err) {
			pr_err("cannot keep %s: %s; the instance record stays, run detach again\n",
				features[i]->name, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The pin root stays while something outlives the detach: say what. */
static void lingering_note(struct accel_ctx *ctx)
{
	struct sm_node *root = sm_new();
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int n = 0;

	for (int i = 0; root && i < nfeatures; i++)
		if (features[i]->lingering)
			n += features[i]->lingering(ctx, sm_object(root, features[i]->name));
	/* through the log, for the journal's priorities */
	f = sm_failed(root) ? NULL : open_memstream(&buf, &len);
	if (f) {
		sm_render_text(root, f);
		if (!fclose(f) && len)
			log_msg(LOG_WARN, PRIO_WARNING, "", "%s", buf);
	}
	free(buf);
	sm_free(root);
	if (!n)
		pr_warn("pin root %s not removed: it holds pins accelctl did not make\n", ctx->pin_root);
}

/* --keep-tuning keeps what a complete attach applied (the instance record
 * lists it) or an earlier --keep-tuning kept; an interrupted attach's
 * leftover is half applied: restored as without the option. */
static unsigned int detach_keep_set(struct accel_ctx *ctx, unsigned int mask,
				    const struct instance_info *ii, bool have)
{
	unsigned int keep = 0;

	for (int i = 0; ctx->keep_tuning && i < nfeatures; i++) {
		const struct accel_feature *f = features[i];

		if (!f->keep || !(mask & (1u << i)))
			continue;
		if (f->kept(ctx) || (have && (ii->features & (1u << i))))
			keep |= 1u << i;
		else
			pr_warn("--keep-tuning: %s is the leftover of an interrupted attach, not a complete one: restoring it\n",
				f->name);
	}
	return keep;
}

/* Nothing but what is kept: mark it kept, remove the record and the pin
 * root. */
static int detach_only_kept(struct accel_ctx *ctx, unsigned int keep, const char *kept_names)
{
	int err;

	if (keep)
		pr_info("nothing else is attached; %s stays kept (`accelctl detach` restores it)\n",
			kept_names);
	else
		pr_info("nothing is attached (pin root %s)\n", ctx->pin_root);
	err = keep_mask(ctx, keep);
	if (err)
		return err;
	instance_remove(ctx);
	if (rmdir(ctx->pin_root) && errno == ENOTEMPTY)
		lingering_note(ctx);
	return 0;
}

/* Detach mask except keep, then mark keep kept and remove the record. */
static int detach_rest(struct accel_ctx *ctx, unsigned int mask, unsigned int keep,
		       struct instance_info *ii, bool have, const char *kept_names)
{
	char names[128];
	int err;

	/* Marked first: a detach killed from here on is finished by the
	 * next attach (a record alone means an attached instance). */
	if (have && !ii->detaching) {
		ii->detaching = true;
		if (instance_write(ctx, ii))
			pr_warn("cannot mark the instance record as detaching: a detach killed now "
				"needs another `accelctl detach`\n");
	}
	err = detach_mask(ctx, mask & ~keep);
	mask_names(mask & ~keep, names, sizeof(names));
	if (err) {
		pr_err("detach incomplete (%s); what is left is listed by `accelctl status`; fix the cause and run detach again\n",
			names);
		return err;
	}
	/* Marked kept before the instance record goes: a crash in between
	 * leaves a record, and detach can be run again. */
	err = keep_mask(ctx, keep);
	if (err)
		return err;
	instance_remove(ctx);
	if (keep)
		pr_info("detached: %s; kept: %s (still applied; `accelctl detach` restores the originals)\n",
			names, kept_names);
	else
		pr_info("detached: %s\n", names);
	if (rmdir(ctx->pin_root) && errno == ENOTEMPTY)
		lingering_note(ctx);
	else if (path_exists(ctx->pin_root))
		pr_warn("pin root %s not removed: %s\n", ctx->pin_root, strerror(errno));
	return 0;
}

int accel_detach(struct accel_ctx *ctx)
{
	struct instance_info ii;
	unsigned int mask, keep;
	char kept_names[128];
	bool have;
	int err;

	if (!path_exists(ctx->pin_root) && instance_read(ctx, &ii)) {
		/* A tuning journal may outlive the pins (crash, reboot). */
		mask = features_attached(ctx);
		if (!mask) {
			pr_info("nothing is attached (pin root %s)\n", ctx->pin_root);
			return 0;
		}
	}
	err = pin_root_take(ctx);
	if (err)
		return err;
	if (!ctx->force) {
		err = instance_check_abi(ctx, "detach");
		if (err)
			goto unlock;
	}
	ctx->detaching = true;
	reap_all(ctx);
	mask = features_attached(ctx);
	have = !instance_read(ctx, &ii);
	if (have) {
		mask |= ii.features;
		if (ii.abi != ACCEL_ABI_VERSION)
			pr_warn("--force: removing an instance of BPF ABI version %u with ABI version %u\n",
				ii.abi, ACCEL_ABI_VERSION);
	}
	keep = detach_keep_set(ctx, mask, &ii, have);
	mask_names(keep, kept_names, sizeof(kept_names));
	if (!(mask & ~keep))
		err = detach_only_kept(ctx, keep, kept_names);
	else
		err = detach_rest(ctx, mask, keep, &ii, have, kept_names);
unlock:
	pin_root_unlock(&ctx->lock_fd);
	return err;
}

/* ---- status --------------------------------------------------------- */

static const char *link_type_str(__u32 t)
{
	const char *s = libbpf_bpf_link_type_str(t);

	return s ? s : "unknown";
}

static void link_target(const struct bpf_link_info *li, char *buf, size_t len)
{
	switch (li->type) {
	case BPF_LINK_TYPE_CGROUP:
		snprintf(buf, len, "cgroup id %llu", (unsigned long long)li->cgroup.cgroup_id);
		break;
	case BPF_LINK_TYPE_XDP:
		snprintf(buf, len, "ifindex %u", li->xdp.ifindex);
		break;
	case BPF_LINK_TYPE_NETNS:
		snprintf(buf, len, "netns ino %u", li->netns.netns_ino);
		break;
	case BPF_LINK_TYPE_RAW_TRACEPOINT:
		snprintf(buf, len, "%s", li->raw_tracepoint.tp_name ?
			 (const char *)(unsigned long)li->raw_tracepoint.tp_name : "-");
		break;
	case BPF_LINK_TYPE_TRACING:
		snprintf(buf, len, "%s", libbpf_bpf_attach_type_str(li->tracing.attach_type) ?: "tracing");
		break;
	case BPF_LINK_TYPE_ITER:
		snprintf(buf, len, "iterator");
		break;
	default:
		snprintf(buf, len, "-");
	}
}

/* A pinned link: its program, hook type and target. */
static void pin_link(struct sm_node *pins, int fd, struct bpf_link_info *li, const char *path,
		     const char *prog, const char *when)
{
	char target[96], tpname[64];
	struct sm_node *o;
	__u32 len;

	if (li->type == BPF_LINK_TYPE_RAW_TRACEPOINT) {
		/* second call with a buffer for the tracepoint's name */
		memset(li, 0, sizeof(*li));
		li->raw_tracepoint.tp_name = (unsigned long)tpname;
		li->raw_tracepoint.tp_name_len = sizeof(tpname);
		len = sizeof(*li);
		if (bpf_obj_get_info_by_fd(fd, li, &len))
			li->raw_tracepoint.tp_name = 0;
	}
	link_target(li, target, sizeof(target));
	o = sm_object(pins, NULL);
	sm_show(o, NULL, "link %-24s %-14s %-24s prog %u, since %s", prog,
		link_type_str(li->type), target, li->prog_id, when);
	sm_str(o, "kind", "link");
	sm_str(o, "path", path);
	sm_uint(o, "link_id", li->id);
	sm_str(o, "link_type", link_type_str(li->type));
	sm_uint(o, "prog_id", li->prog_id);
	sm_str(o, "prog_name", prog);
	sm_str(o, "target", target);
	sm_str(o, "since", when);
}

/* A program pinned on its own (bypass's sk_msg: map attachments have no
 * link on this libbpf). */
static void pin_prog(struct sm_node *pins, const struct bpf_prog_info *pi, const char *path,
		     const char *when)
{
	struct sm_node *o = sm_object(pins, NULL);

	sm_show(o, NULL, "prog %-24s %-14s %-24s prog %u, since %s", pi->name,
		libbpf_bpf_prog_type_str(pi->type) ?: "?", "(pinned)", pi->id, when);
	sm_str(o, "kind", "prog");
	sm_str(o, "path", path);
	sm_uint(o, "prog_id", pi->id);
	sm_str(o, "prog_type", libbpf_bpf_prog_type_str(pi->type) ?: "unknown");
	sm_str(o, "prog_name", pi->name);
	sm_str(o, "since", when);
}

/* A pinned map (a text line at -vv only). */
static void pin_map(struct sm_node *pins, const struct bpf_map_info *mi, const char *path)
{
	struct sm_node *o = sm_object(pins, NULL);

	if (log_verbosity() >= LOG_DEBUG)
		sm_show(o, NULL, "map  %-24s %-10s id %u, %u entries", mi->name,
			libbpf_bpf_map_type_str(mi->type) ?: "?", mi->id, mi->max_entries);
	sm_str(o, "kind", "map");
	sm_str(o, "path", path);
	sm_uint(o, "map_id", mi->id);
	sm_str(o, "map_type", libbpf_bpf_map_type_str(mi->type) ?: "unknown");
	sm_uint(o, "max_entries", mi->max_entries);
}

/* The pin dir/name: a link (by its name), a program or a map. */
static void status_pin(struct sm_node *pins, const char *dir, const char *name)
{
	struct bpf_link_info li = { 0 };
	struct bpf_prog_info pi = { 0 };
	struct bpf_map_info mi = { 0 };
	enum bpf_fd_kind kind = BPF_FD_UNKNOWN;
	char path[PATH_MAX], when[32];
	struct stat st;
	__u32 len;
	int fd;

	if (path_join(path, sizeof(path), dir, name))
		return;
	fd = bpf_obj_get(path);
	/* bpffs stamps the inode when the object is pinned */
	if (stat(path, &st))
		st.st_mtime = 0;
	fmt_time(st.st_mtime, when, sizeof(when));
	if (fd < 0)
		return;
	len = sizeof(li);
	if (!bpf_obj_get_info_by_fd(fd, &li, &len) && li.type && li.prog_id &&
	    !strncmp(name, ACCEL_PIN_LINK_PREFIX, strlen(ACCEL_PIN_LINK_PREFIX)))
		pin_link(pins, fd, &li, path, name + strlen(ACCEL_PIN_LINK_PREFIX), when);
	else if ((kind = bpf_fd_kind(fd)) == BPF_FD_PROG &&
		 (len = sizeof(pi), !bpf_obj_get_info_by_fd(fd, &pi, &len)))
		pin_prog(pins, &pi, path, when);
	else if (kind == BPF_FD_MAP && (len = sizeof(mi), !bpf_obj_get_info_by_fd(fd, &mi, &len)))
		pin_map(pins, &mi, path);
	close(fd);
}

static int not_dot(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* One feature's pinned links and maps, by name (readdir's order depends
 * on the file system). */
static void status_pins(struct accel_ctx *ctx, const struct accel_feature *f, struct sm_node *sec)
{
	struct dirent **names;
	char dir[PATH_MAX];
	struct sm_node *pins;
	int n;

	if (feature_pin_dir(ctx, f, dir, sizeof(dir)))
		return;
	n = scandir(dir, &names, not_dot, alphasort);
	if (n < 0)
		return;
	pins = sm_array(sec, "pins");
	for (int i = 0; i < n; i++) {
		status_pin(pins, dir, names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

/* What status found, before it says it. */
struct status_view {
	struct instance_info ii;
	struct state_err serr;
	bool have;			/* an instance record */
	bool unreadable;		/* one that cannot be read */
	unsigned int mask;		/* features_attached() */
	unsigned int kept;		/* features_kept() */
	int lingering;			/* what outlives a detach (draining, handover) */
};

/* Whether attached, since when; or the leftovers of an interrupted attach. */
static void status_attached(struct sm_node *root, const struct status_view *v)
{
	struct sm_node *n = sm_bool(root, "attached", v->have || (v->mask & ~v->kept));
	char names[128], when[32];

	mask_names(v->mask & ~v->kept, names, sizeof(names));
	if (!v->have && !(v->mask & ~v->kept))
		sm_show(n, "attached", "no");
	else if (v->have)
		sm_show(n, "attached", "%s since %s", names, fmt_time(v->ii.since, when, sizeof(when)));
	else
		sm_show(n, "attached", "%s (no instance record: interrupted attach; the next attach or detach cleans it up)",
			names);
}

/* The top of status: versions, paths, namespace, the instance record. */
static void status_top(struct accel_ctx *ctx, struct sm_node *root, const struct status_view *v)
{
	const struct instance_info *ii = &v->ii;
	bool other_ns = v->have && ctx->netns && strcmp(ctx->netns, ii->netns);
	struct sm_node *n;
	char when[32];

	sm_note(root, NULL, "accelctl %s  (libbpf %s, kernel %s)", ACCELCTL_VERSION,
		libbpf_version(), kernel_release());
	sm_show(sm_str(root, "pin_root", ctx->pin_root), "pin root", "%s", ctx->pin_root);
	sm_show(sm_str(root, "state_dir", ctx->state_dir), "state dir", "%s", ctx->state_dir);
	status_attached(root, v);
	/* the keys of `version --json`; libbpf_version is the older name */
	sm_str(root, "version", ACCELCTL_VERSION);
	sm_str(root, "commit", accel_build_commit);
	sm_str(root, "libbpf", libbpf_version());
	sm_str(root, "libbpf_version", libbpf_version());
	sm_str(root, "kernel", kernel_release());
	sm_uint(root, "abi_version", ACCEL_ABI_VERSION);
	/* the namespace this status looked in (--netns or the attach's) */
	n = sm_uint(root, "netns_ino", netns_ino());
	if (ctx->netns)
		sm_show(n, "netns", "%s (net:[%llu])%s%s", ctx->netns, netns_ino(),
			other_ns ? "; attach used " : "",
			other_ns ? (ii->netns[0] ? ii->netns : "the host's") : "");
	sm_uint(root, "netns_cookie", ctx->netns_cookie);
	if (v->have) {
		sm_str(root, "since", fmt_time(ii->since, when, sizeof(when)));
		sm_str(root, "netns", ii->netns);
		n = sm_uint(root, "instance_abi_version", ii->abi);
		if (ii->abi != ACCEL_ABI_VERSION)
			sm_show(n, "ABI", "%u, this accelctl has %u: detach with the accelctl that attached it, or `accelctl detach --force`",
				ii->abi, ACCEL_ABI_VERSION);
	}
	if (v->unreadable)
		sm_show(sm_str(root, "instance_error", v->serr.msg), "instance",
			"unreadable record: %s; `accelctl detach --force` removes the instance", v->serr.msg);
}

/* One feature's section: attached or kept, its pins, its own status and
 * what it leaves behind a detach. */
static void status_feature(struct accel_ctx *ctx, struct sm_node *feats, int i, struct status_view *v)
{
	const struct accel_feature *f = features[i];
	struct sm_node *sec = sm_nest(sm_object(feats, f->name), 4);

	sm_bool(sec, "attached", (v->mask & ~v->kept) & (1u << i));
	if (f->kept)
		sm_bool(sec, "kept", v->kept & (1u << i));
	if (v->mask & (1u << i)) {
		/* a kept feature's status says so itself, with its count */
		if (!(v->kept & (1u << i)))
			sm_indent(sm_note(sec, NULL, "%s: %s", f->name, f->summary), 2);
		status_pins(ctx, f, sec);
		if (f->status)
			f->status(ctx, sec);
	}
	if (f->lingering)
		v->lingering += f->lingering(ctx, sec);
}

/* What status exits with: kept state, an interrupted attach's leftovers
 * and what drains or waits for a handover count as attached (something
 * of accelctl's is there; `accelctl detach` removes it); an unreadable
 * instance record is a failure, after status said what it could. */
static int status_result(const struct accel_ctx *ctx, const struct status_view *v, bool *attached)
{
	*attached = v->have || v->mask || v->lingering;
	if (!v->unreadable)
		return 0;
	pr_err("status: the instance record in %s is unreadable: %s; accelctl cannot tell what it attached.\n"
	       "Fix: `accelctl detach --force` removes the instance (then attach again).\n",
	       ctx->state_dir, v->serr.msg);
	return -EINVAL;
}

int accel_status(struct accel_ctx *ctx, bool *attached)
{
	struct status_view v = { 0 };
	struct sm_node *root, *feats;
	int err;

	err = accel_check_access(ctx, "status");
	if (err)
		return err;
	accel_reap_trylock(ctx);
	err = instance_load(ctx, &v.ii, &v.serr);
	v.have = !err;
	v.unreadable = err == -EINVAL;
	v.mask = features_attached(ctx);
	v.kept = features_kept(ctx);

	root = sm_new();
	status_top(ctx, root, &v);
	feats = sm_object(root, "features");
	for (int i = 0; i < nfeatures; i++)
		status_feature(ctx, feats, i, &v);
	if (sm_failed(root)) {
		sm_free(root);
		pr_err("status: out of memory\n");
		return -ENOMEM;
	}
	if (ctx->json)
		sm_render_json(root, stdout);
	else
		sm_render_text(root, stdout);
	sm_free(root);
	return status_result(ctx, &v, attached);
}

const struct metric_desc accel_metrics[AM_COUNT] = {
	[AM_BUILD_INFO] = { "accel_build_info", METRIC_GAUGE, "",
		"accelctl build and runtime versions; always 1", { "version", "libbpf", "kernel" } },
	[AM_FEATURE_ATTACHED] = { "accel_feature_attached", METRIC_GAUGE, "",
		"1 when the feature is attached, 0 when not", { "feature" } },
};

int accel_collect(struct accel_ctx *ctx, struct metrics *m)
{
	int err = 0;

	metric_put(metrics_family_of(m, &accel_metrics[AM_BUILD_INFO]), 1, ACCELCTL_VERSION,
		   libbpf_version(), kernel_release());
	for (int i = 0; i < nfeatures; i++) {
		const struct accel_feature *ft = features[i];
		bool on = ft->attached(ctx);
		int e;

		metric_put(metrics_family_of(m, &accel_metrics[AM_FEATURE_ATTACHED]), on, ft->name);
		if (ft->collect_lingering && (e = ft->collect_lingering(ctx, m)))
			err = e;
		if (!on || !ft->collect)
			continue;
		e = ft->collect(ctx, m);
		if (e) {
			pr_err("reading %s counters failed: %s\n", ft->name, strerror(-e));
			err = e;
		}
	}
	return err;
}
