// Every diagnostic code derivc can emit, with the text `derivc explain CODE` prints and SARIF
// uses for its rule descriptions. A test checks that every emitted code is listed here.

export interface CodeInfo {
  /** One line: what the code means. */
  summary: string;
  /** Why it matters and how to fix it. */
  explanation: string;
  /** The fix, when it is the same every time (pattern codes): used as the diagnostic's hint. */
  hint?: string;
}

const CATALOGUE = {
  'parse/syntax': {
    summary: 'the file is not valid YAML',
    explanation:
      'The YAML parser stopped at the position shown; derivc reports the first such error, because the ones after it are usually the parser losing its way. Check indentation (spaces, never tabs; the keys of one mapping in one column), quotes and colons around it.',
  },
  'parse/duplicate-key': {
    summary: 'a key appears twice in one mapping',
    explanation: 'YAML parsers disagree on which of two equal keys wins, so derivc refuses the file instead of guessing. Merge the two entries.',
  },
  'parse/alias-limit': {
    summary: 'YAML aliases expand to too much data',
    explanation:
      'A file whose aliases (`*name`) would add more than 10000 values when expanded is refused without expanding it: this is how "billion laughs" files exhaust memory. Write the repeated content out, or use fewer nested aliases.',
  },
  'parse/undefined-alias': {
    summary: 'an alias names no anchor',
    explanation:
      'An alias `*name` repeats the value marked `&name`, which must come before it in the file. Define the anchor above the alias, or fix the name.',
  },
  'parse/recursive-alias': {
    summary: 'an alias is inside the value it repeats',
    explanation: '`a: &x [1, *x]` would be a list that contains itself, without end. An alias can only repeat a value that is complete before it.',
  },
  'parse/invalid-merge': {
    summary: 'a `<<` merge key names something other than a mapping',
    explanation:
      '`<<: *base` copies the keys of the mapping `&base` into this one (keys written here win). Its value must be an alias to a mapping, an inline mapping, or a list of those.',
  },
  'parse/unsupported-tag': {
    summary: 'a YAML tag derivc does not implement',
    explanation:
      "derivc reads plain data: strings, numbers, booleans, null, lists and mappings. Tags such as `!!binary`, `!!set`, `!!timestamp` or `!custom` would make other YAML readers (yip's go-yaml among them) see something else than derivc, so they are errors. The core tags `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map` and `!!seq` are accepted where they mean the same in YAML 1.1 and 1.2: `!!int 0644` (octal to one, decimal to the other) and `!!bool yes` are not. For binary file content, put the file next to the manifest and use `files[].source`.",
  },
  'parse/too-deep': {
    summary: 'lists and mappings are nested too deeply',
    explanation:
      'derivc reads at most 100 levels of lists and mappings inside each other (aliases included); no manifest or cloud-config file needs more, and deeper input is how parsers are made to run out of stack. Flatten the structure.',
  },
  'parse/encoding': {
    summary: 'the file is not UTF-8',
    explanation:
      'derivc reads manifests and cloud-config files as UTF-8. Re-save the file as UTF-8, for example with `iconv -f latin1 -t utf-8 in.yaml > out.yaml`.',
  },
  'parse/empty': {
    summary: 'the file is empty',
    explanation:
      'A manifest needs at least apiVersion, kind, metadata and base. `derivc init` scaffolds one. An empty cloud-config file only gets a warning: it does nothing at boot.',
  },
  'parse/multiple-documents': {
    summary: 'the file holds several YAML documents',
    explanation: 'A manifest (and a cloud-config file) is one YAML document. Remove the `---` separator and what follows, or split the documents into files.',
  },
  'parse/not-a-mapping': {
    summary: 'the file is not a mapping of keys',
    explanation: 'A manifest is a YAML mapping whose first key is `apiVersion`. A list or a plain value at the top is not a manifest.',
  },
  'parse/too-large': {
    summary: 'the file is too large',
    explanation:
      'Manifests and cloud-config files are small; a multi-megabyte file is refused unread. Put large content in a file and reference it with `files[].source`.',
  },
  'io/unreadable': {
    summary: 'the file cannot be read',
    explanation: 'The path does not exist, is a directory, is a symlink loop, or cannot be read. `derivc validate DIR` looks for DIR/derivative.yaml.',
  },
  'io/outside-repository': {
    summary: 'the manifest resolves outside its repository',
    explanation:
      'The path names a symlink that leads out of the repository holding it (its git work tree, or its own directory when it is in none). derivc does not read it: in CI a pull request could otherwise make derivc print any file of the runner into the log.',
    hint: 'name the manifest itself, not a link to a file elsewhere',
  },
  'validate/too-many-problems': {
    summary: 'more problems in this file than derivc shows',
    explanation:
      'derivc reports the first 100 problems of each file (by position) and then this one, which counts the rest: thousands of diagnostics help no one and make every output format huge. Its severity is the highest of the problems left out, so the exit code is the same as with all of them shown.',
  },
  'api/missing-version': {
    summary: 'the manifest has no apiVersion',
    explanation: '`apiVersion` is read first and decides which format applies. Start the manifest with `apiVersion: derivc.dev/v1alpha1`.',
  },
  'api/unknown-version': {
    summary: 'the apiVersion is not one derivc knows',
    explanation: 'Only the versions listed in the message are supported. A newer manifest needs a newer derivc; a typo needs fixing.',
  },
  'schema/unknown-key': {
    summary: 'a key the manifest format does not have',
    explanation:
      'Every object in a manifest is closed: an unknown key is an error, because it is almost always a typo (`systctl` for `sysctl`) that would otherwise be silently ignored at boot. The hint names the closest known key.',
  },
  'schema/missing-key': { summary: 'a required key is missing', explanation: 'The object shown needs this key. The hint says what it is for.' },
  'schema/wrong-type': {
    summary: 'a value has the wrong type',
    explanation: 'The value is, for example, a list where a string is expected. Check the indentation: a value indented under a key becomes a mapping.',
  },
  'schema/invalid-value': {
    summary: 'a value is not one of the allowed ones',
    explanation: 'The message lists the allowed values; the hint names the closest one when there is a likely typo.',
  },
  'schema/invalid-format': {
    summary: 'a value does not have the expected form',
    explanation: "The value does not match the pattern the format requires. `derivc schema` shows each field's pattern and description.",
  },
  'schema/invalid-key': {
    summary: 'a mapping key does not have the expected form',
    explanation: 'Keys of this mapping must follow a pattern (for example environment variable names or sysctl keys).',
  },
  'schema/too-few-items': { summary: 'a list or mapping is too short', explanation: 'The list needs more entries (for example at least one firmware).' },
  'schema/too-many-items': { summary: 'a list or mapping is too long', explanation: 'The list has more entries than allowed.' },
  'schema/duplicate-item': { summary: 'a list repeats an item', explanation: 'Lists such as firmware or builders name each item once.' },
  'schema/out-of-range': { summary: 'a number is out of range', explanation: 'The number is below the minimum or above the maximum the field allows.' },
  'schema/too-short': { summary: 'a string is too short', explanation: 'The value is shorter than the field allows (often: empty).' },
  'schema/too-long': { summary: 'a string is too long', explanation: 'The value is longer than the field allows.' },
  'schema/exactly-one': {
    summary: 'exactly one of several keys is required',
    explanation: 'The object must set exactly one of the keys named in the message.',
  },
  'cloud-config/unknown-key': {
    summary: 'a key the cloud-config file format does not have',
    explanation:
      "Every object in a cloud-config file is closed: an unknown key is an error, because it is almost always a typo (`systctl` for `sysctl`) that would otherwise be silently ignored at boot. The hint names the closest known key. The cOS runner (yip) itself ignores unknown keys, which is why derivc checks them. In a `#cloud-config` file on a Kairos toolkit, Kairos's own keys (`install`, `k3s`, `p2p`, …) are known too; other top-level keys pass through to Kairos providers, and only one that looks like a typo of a known key is reported.",
  },
  'cloud-config/missing-key': { summary: 'a required key is missing', explanation: 'The object shown needs this key. The hint says what it is for.' },
  'cloud-config/wrong-type': {
    summary: 'a value has the wrong type',
    explanation: 'The value is, for example, a list where a string is expected. Check the indentation: a value indented under a key becomes a mapping.',
  },
  'cloud-config/invalid-value': {
    summary: 'a value is not one of the allowed ones',
    explanation: 'The message lists the allowed values; the hint names the closest one when there is a likely typo.',
  },
  'cloud-config/invalid-format': {
    summary: 'a value does not have the expected form',
    explanation: "The value does not match the pattern the format requires. `derivc schema` shows each field's pattern and description.",
  },
  'cloud-config/invalid-key': {
    summary: 'a mapping key does not have the expected form',
    explanation: 'Keys of this mapping must follow a pattern (for example environment variable names or sysctl keys).',
  },
  'cloud-config/too-few-items': { summary: 'a list or mapping is too short', explanation: 'The list needs more entries (for example at least one firmware).' },
  'cloud-config/too-many-items': { summary: 'a list or mapping is too long', explanation: 'The list has more entries than allowed.' },
  'cloud-config/duplicate-item': { summary: 'a list repeats an item', explanation: 'Lists such as firmware or builders name each item once.' },
  'cloud-config/out-of-range': { summary: 'a number is out of range', explanation: 'The number is below the minimum or above the maximum the field allows.' },
  'cloud-config/too-short': { summary: 'a string is too short', explanation: 'The value is shorter than the field allows (often: empty).' },
  'cloud-config/too-long': { summary: 'a string is too long', explanation: 'The value is longer than the field allows.' },
  'cloud-config/exactly-one': {
    summary: 'exactly one of several keys is required',
    explanation: 'The object must set exactly one of the keys named in the message.',
  },
  'cloud-config/quoted-permissions': {
    summary: 'a file mode in a cloud-config step is quoted',
    explanation:
      'yip reads `permissions` as a YAML 1.1 integer: `0644` unquoted means octal 644. A quoted `"0644"` is a string, and yip then drops the whole file at boot (logged, not fatal). Write `permissions: 0644` without quotes.',
    hint: 'write the mode unquoted, e.g. `permissions: 0644`',
  },
  'cloud-config/invalid-permissions': {
    summary: 'a file mode in a cloud-config step is out of range',
    explanation: 'Modes are octal numbers from 0000 to 07777, written unquoted with a leading 0 (`0640`).',
    hint: 'write an octal mode with a leading 0, e.g. `permissions: 0640`',
  },
  'cloud-config/decimal-permissions': {
    summary: 'a file mode is written without its leading 0',
    explanation: '`permissions: 644` is the decimal number 644 (octal 1204), not mode 0644. yip would apply the odd mode without complaint. Add the leading 0.',
  },
  'cloud-config/label-too-long': {
    summary: 'a partition label is longer than its filesystem allows',
    explanation: 'Filesystem labels are limited: ext2/3/4 16 characters, xfs 12, vfat 11. `COS_PERSISTENT` (14) does not fit xfs.',
  },
  'cloud-config/yip-unreadable': {
    summary: "yip's YAML reader would reject this file or read it differently",
    explanation:
      'yip reads cloud-config with go-yaml v2 (YAML 1.1) and skips a whole file it cannot read, with every user, key and service in it. go-yaml v2 rejects raw control characters (C0 but tab and line ends, DEL, C1 but U+0085, U+FFFE, U+FFFF) anywhere, comments included; reads U+0085, U+2028 and U+2029 as line breaks; rejects `\\uD800`-style surrogate escapes (even as a pair), the YAML 1.2 escape `\\/`, and directives other than `%YAML 1.1` and `%TAG`; and applies tags such as `!!bool` that derivc reads as plain strings. Write such characters as escapes in a double-quoted string (`\\L`, `\\P`, `\\N`, `\\x7f`), astral characters as themselves or `\\UXXXXXXXX`, and drop the tag or directive.',
  },
  'stages/unknown-stage': {
    summary: 'a stage name the toolkit does not run',
    explanation:
      'Every toolkit runs rootfs, initramfs, fs, boot, network, reconcile and its lifecycle hooks (before-install, after-install-chroot, …; Elemental also before-disk, after-disk, post-install, …; Kairos also kairos-install.pre, kairos-uki-install.after, …), each with .before/.after. Other names only run when something calls `elemental run-stage NAME` (or `kairos-agent run-stage NAME`); usually they are typos, such as `install-after` for `after-install`.',
  },
  'cloud-config/newer-than-toolkit': {
    summary: "a cloud-config key newer than the yip of the manifest's toolkit",
    explanation:
      "Each toolkit release links one yip version (its go.mod), and yip silently ignores keys it does not know: a step using `only_os` (yip v1.14) on Elemental v2.3.2 (yip v1.4.6 schema) runs everywhere, a `maas` datasource on Kairos v3.7.2 (yip v1.21.2) is never asked. The message names the yip version that introduced the key and the one the toolkit runs. Upgrade the toolkit (`toolkit.version`, the toolkit image's tag), or write the step without the key. A cloud-config file validated on its own is checked against the newest yip derivc knows.",
  },
  'cloud-config/not-run-by-toolkit': {
    summary: "a cloud-config directive the manifest's toolkit does not run",
    explanation:
      'Some toolkits decode a directive but never run it: Elemental from v2.1.2 dropped `git` and `modules` (its yip fork deleted `modules`), Kairos v3.4 ran its own plugin list without `packages`, `unpack_images` and the `only_*` conditions (a step with `only_os` then runs everywhere), and Kairos from v3.7 is built without git, so a `git` step fails. Do the work another way (`commands`, `files`, or a build step).',
  },
  'cloud-config/late-header': {
    summary: "`#cloud-config` is not on the first line, where this toolkit's yip looks for it",
    explanation:
      'yip before v1.22.0 reads a file as cloud-init (users, write_files, runcmd, hostname) only when `#cloud-config` is its very first line; from v1.22.0 blank and comment lines may come first. With an older toolkit, yip reads this file as a plain yip file and ignores every cloud-init key in it. Move `#cloud-config` to the first line.',
  },
  'stages/invalid-stage-name': {
    summary: 'a stage name has an invalid form',
    explanation: 'Stage names are lowercase words with dots and dashes, like `initramfs` or `boot.after`.',
    hint: 'use a stage name such as `initramfs`, `boot` or `network.after`',
  },
  'stages/plaintext-password': {
    summary: 'a cloud-config user has a plaintext password',
    explanation: 'yip accepts plain passwords, but the file ends up readable in the image and in git. Store a crypt hash instead (`openssl passwd -6`).',
  },
  'metadata/invalid-name': {
    summary: 'invalid derivative name',
    explanation:
      '`metadata.name` names the image and media files: lowercase letters, digits and dashes, 1\u201363 characters, starting and ending with a letter or digit.',
    hint: 'use lowercase letters, digits and dashes, e.g. `acme-os`',
  },
  'metadata/invalid-version': {
    summary: 'invalid derivative version',
    explanation: '`metadata.version` becomes an image tag: letters, digits, `.`, `_`, `+`, `-`, up to 128 characters, not starting with a punctuation mark.',
    hint: 'use a tag-safe version such as `1.2.0`',
  },
  'metadata/invalid-label-key': {
    summary: 'invalid OCI label key',
    explanation: 'Label keys are reverse-DNS style names: lowercase letters, digits, dots and dashes (`com.acme.team`).',
    hint: 'use a key such as `com.example.owner`',
  },
  'base/invalid-image-ref': {
    summary: 'invalid image reference',
    explanation: 'An image reference is `[registry/]repo[:tag][@sha256:digest]` with lowercase repository path components.',
    hint: 'write e.g. `registry.opensuse.org/opensuse/leap:15.5`',
  },
  'base/image-xor-derivative': {
    summary: 'base needs exactly one of image or derivative',
    explanation:
      '`base.image` builds FROM a container image; `base.derivative` builds FROM another derivative manifest (a downstream derivative). Set exactly one.',
  },
  'base/unpinned': {
    summary: 'the base image is not pinned',
    explanation:
      'A reference without a tag or digest follows `latest`, so two builds of the same manifest can produce different images. Pin a tag, or better a digest.',
  },
  'base/family-unknown': {
    summary: 'the distro family cannot be inferred',
    explanation:
      'derivc infers the family (opensuse, fedora, ubuntu, debian) from well-known image names. For other names set `base.family`: it decides the package manager and the kernel/initrd commands.',
  },
  'base/family-mismatch': {
    summary: 'a downstream derivative names a different family than its upstream',
    explanation:
      "A downstream derivative is built FROM its upstream image, so it inherits the upstream's family. Remove `base.family` from the downstream manifest.",
  },
  'base/derivative-not-found': {
    summary: 'the upstream derivative manifest does not exist',
    explanation: '`base.derivative` is a path to another derivative.yaml, relative to this manifest.',
  },
  'base/derivative-outside-repository': {
    summary: 'the upstream derivative is outside the repository',
    explanation:
      'A manifest may read files only inside its repository: the git work tree holding it, or its own directory when it is in none. `base.derivative` leads elsewhere (by `..` or through a symlink), so derivc does not read it: in CI a manifest from a pull request could otherwise print any file of the runner into the log.',
    hint: 'keep the upstream manifest in the same repository and point at it with a relative path',
  },
  'base/derivative-cycle': {
    summary: 'upstream derivatives form a cycle',
    explanation:
      'A chain of `base.derivative` references leads back to a manifest already in the chain, so no build order exists. One manifest in the chain must build from a base `image`.',
  },
  'toolkit/repository-required': {
    summary: 'the luet toolkit needs a repository for this family',
    explanation:
      'The cOS toolkit published luet repositories for openSUSE (green), Fedora (blue) and Ubuntu (orange), not for Debian. Name your repository, or ship the toolkit as an image (`source: image`).',
  },
  'toolkit/no-runtime': {
    summary: 'a runtime-only setting in a derivative without a toolkit',
    explanation:
      '`stages`, `oemDir` and `layout` are cloud-config run at boot by the cOS toolkit. Without a toolkit nothing runs them. Add a toolkit, or use `system:` settings, which derivc applies at build time when there is no toolkit.',
  },
  'toolkit/flavor-required': {
    summary: 'the toolkit in the base image cannot be told from its name',
    explanation:
      'With `source: base` derivc needs to know whose toolkit the base image carries (cOS, Elemental or Kairos): it decides the cloud-config keys the image understands and where boot arguments go. Well-known names (`quay.io/kairos/*`, `*elemental*`, `quay.io/costoolkit/*`) say it; otherwise state `flavor:` (and `version:`) under `toolkit`.',
  },
  'toolkit/unknown-version': {
    summary: 'the toolkit release cannot be told, so the newest one is assumed',
    explanation:
      "derivc reads the toolkit release from the toolkit image's tag (`elemental-cli:v2.3.2`, `framework:v2.11.7`) or from `toolkit.version`. Without either it assumes the newest release it knows, whose yip accepts every cloud-config key: keys an older toolkit ignores are then not reported. State `version:` under `toolkit`, or use a tagged toolkit image.",
  },
  'toolkit/downstream': {
    summary: 'a downstream derivative sets a toolkit',
    explanation:
      'The upstream image already carries the toolkit; a downstream derivative does not install it again. Change the toolkit in the upstream manifest.',
  },
  'packages/invalid-name': {
    summary: 'invalid package name',
    explanation:
      'Package names are passed to zypper, dnf or apt-get. They may contain letters, digits and `+._:-`, optionally `=version`. Spaces, `;`, `$` and quotes are refused: nothing from a manifest reaches a shell unchecked.',
    hint: 'write one package per list item, e.g. `openssh-server` or `vim=2:9.0.1378-2`',
  },
  'packages/invalid-repository': {
    summary: 'invalid package repository',
    explanation: 'A repository needs a `name` (letters, digits, `._-`) and an `http(s)` `url`.',
    hint: 'use e.g. `{name: acme, url: https://repo.example.com/acme}`',
  },
  'packages/install-and-remove': {
    summary: 'a package is both installed and removed',
    explanation: 'Package managers resolve this differently per family. Keep the package in one list.',
  },
  'packages/duplicate-repository': {
    summary: 'two repositories share a name',
    explanation: "Repository names become file names under the package manager's configuration; each must be unique.",
  },
  'packages/invalid-platform': {
    summary: 'unknown platform in a package item',
    explanation:
      'A package item `{name, platforms}` is installed (or removed) only when building for one of its platforms: `linux/amd64` or `linux/arm64`, compared with `base.platform`.',
    hint: 'write `platforms: [linux/amd64]` or `platforms: [linux/arm64]`',
  },
  'packages/invalid-repository-name': {
    summary: 'invalid name in `disableRepositories`',
    explanation:
      'Each name is a repository the base image has: a zypper alias, a dnf repository id, or an apt source file name without extension (`sources.list` for the legacy /etc/apt/sources.list). Letters, digits and `._:+-` only.',
    hint: 'write the name as `zypper lr`, `dnf repolist` or `ls /etc/apt/sources.list.d` shows it',
  },
  'packages/invalid-suite': {
    summary: 'invalid apt suite or component',
    explanation: 'apt suites (`jammy-updates`, a flat path ending in `/`) and components (`main`) are letters, digits and `._/-`.',
    hint: 'write e.g. `suites: [jammy]` and `components: [main]`',
  },
  'packages/invalid-ppa': {
    summary: 'invalid PPA',
    explanation: 'A PPA is written `owner/name` (lowercase letters, digits and `.+-`), without the `ppa:` prefix.',
    hint: 'write e.g. `ppa: deadsnakes/ppa`',
  },
  'packages/invalid-priority': {
    summary: 'repository priority out of range',
    explanation:
      "`priority` is the package manager's own number: zypper and dnf take 1 to 99 (lower wins, 99 is the default); apt takes a Pin-Priority (higher wins, 500 is the default), applied to the repository URL's host.",
    hint: 'zypper and dnf: a number from 1 to 99',
  },
  'packages/ppa-needs-ubuntu': {
    summary: 'a PPA on a family other than Ubuntu',
    explanation:
      'PPAs are built for Ubuntu releases and added with add-apt-repository. On Debian, Fedora or openSUSE add the repository with its `url` (and `suites`/`components` on Debian) instead.',
    hint: 'use `{name, url, suites, components}` for this family',
  },
  'packages/apt-only': {
    summary: 'an apt-only repository key on an rpm family',
    explanation: '`suites` and `components` describe apt repositories (deb822). zypper and dnf repositories are a `url` only.',
    hint: 'remove the key: the repository `url` is all zypper and dnf need',
  },
  'packages/suites-components': {
    summary: 'apt suites and components do not fit together',
    explanation:
      'An apt repository is either flat (`suites` absent, or each suite a path ending in `/`, without `components`) or a normal one (`suites` such as `jammy` with `components` such as `main`). apt refuses the others.',
    hint: 'give `components` with named suites, none with flat ones',
  },
  'packages/no-gpg-check': {
    summary: "a repository's signatures are not checked",
    explanation:
      '`gpgCheck: false` writes `gpgcheck=0` (zypper, dnf) or `Trusted: yes` (apt): anyone who can change what the repository serves can put any package in the image. Give the signing key with `gpgKeyUrl` instead.',
    hint: 'set `gpgKeyUrl` to the repository signing key and drop `gpgCheck: false`',
  },
  'packages/invalid-auth': {
    summary: 'invalid repository credentials',
    explanation:
      "`auth` names where a private repository's password is, never the password: `username` (not secret) and one of `env` — an environment variable whose name starts with `DERIVC_SECRET_`, so a manifest from a pull request can reach only variables exported for derivc on purpose — or `file`, a path relative to the manifest, inside the repository, outside `.git` and not tracked by git. derivc reads it at build time and hands it to the package manager through a BuildKit secret mount; it never lands in the image, the build context, derivc.json, the log or `plan`. A manifest can send the password to whatever `url` it names: give DERIVC_SECRET_* only to builds of reviewed changes.",
    hint: 'write e.g. `auth: {username: ci, env: DERIVC_SECRET_ACME}`',
  },
  'packages/secret-env-name': {
    summary: 'a password variable must be named DERIVC_SECRET_ and capitals, digits or _',
    explanation:
      "`auth.env` names the environment variable derivc reads a repository's password from. A manifest may come from a pull request, so it can name only variables exported for derivc on purpose: DERIVC_SECRET_ followed by capitals, digits or `_` — never GITHUB_TOKEN, a cloud key or anything else the build job holds. Export the password under such a name (in CI: a secret of the job).",
    hint: 'write e.g. `env: DERIVC_SECRET_ACME_REPO` and export the password under that name',
  },
  'packages/kernel-downstream': {
    summary: 'a downstream derivative chooses a kernel',
    explanation:
      'A downstream derivative installs no boot glue: its upstream image has the kernel, and the build requires exactly one. Choose the kernel with `packages.kernel` in the upstream manifest.',
  },
  'files/invalid-path': {
    summary: 'invalid file path',
    explanation: '`files[].path` is where the file lands in the image: an absolute path of safe characters.',
    hint: 'write an absolute path such as `/etc/motd`',
  },
  'files/duplicate-path': {
    summary: 'two files entries write the same path',
    explanation: 'The later entry would silently replace the earlier one. Keep one entry per path.',
  },
  'files/invalid-mode': {
    summary: 'invalid file mode',
    explanation: 'Modes are octal strings: `"0644"`, `"0755"`, `"1777"`.',
    hint: 'write the mode as a quoted octal string, e.g. `mode: "0644"`',
  },
  'files/mode-not-string': {
    summary: 'a file mode is an unquoted number',
    explanation:
      'YAML 1.1 reads `0644` as octal 420 and YAML 1.2 as decimal 644, so an unquoted mode means different things to different tools. derivc requires a quoted string.',
  },
  'files/invalid-owner': {
    summary: 'invalid file owner',
    explanation: '`owner` is `user:group` with names or numeric ids, e.g. `root:root` or `1000:1000`.',
    hint: 'write `user:group`, e.g. `root:root`',
  },
  'files/exactly-one-kind': {
    summary: 'a files item needs exactly one kind, or only mode/owner',
    explanation:
      'Each `files` item says what its `path` becomes with exactly one of `content` (text in the manifest), `source` (a file next to the manifest), `url` + `sha256` (downloaded at build time), `symlink` (a link to the target given), `directory: true` or `absent: true` (removed). With none of them, `mode` and/or `owner` change a path the image already has. Two of them in one item, or an item with only a `path`, is an error.',
  },
  'files/invalid-combination': {
    summary: 'a files key does not apply to the kind of the item',
    explanation:
      '`template` renders `content` only; `sha256` checks a `url` download only; an `absent` path has no `mode` or `owner`; a symlink has no mode of its own (`chmod` follows the link and would change its target). Remove the key, or change the kind of the item.',
  },
  'files/missing-sha256': {
    summary: 'a download has no sha256',
    explanation:
      'A `url` item is downloaded when the image is built. Its `sha256` is what makes the build reproducible and safe: the build fails at the item when the download has another digest. Compute it with `sha256sum FILE` from a copy you trust.',
  },
  'files/invalid-sha256': {
    summary: 'invalid sha256 digest',
    explanation: '`sha256` is the SHA-256 digest of the file at `url`: 64 lowercase hex digits, as `sha256sum` prints them.',
    hint: 'write the 64 lowercase hex digits `sha256sum FILE` prints',
  },
  'files/invalid-url': {
    summary: 'invalid download URL',
    explanation:
      '`url` is an `http://` or `https://` URL the build downloads the file from. Characters outside the URL set (spaces, quotes, `$`, backslashes) must be percent-encoded; `$` would be expanded by the Dockerfile.',
    hint: 'write an http(s) URL, percent-encoding spaces and other special characters',
  },
  'files/invalid-symlink': {
    summary: 'invalid symlink target',
    explanation: '`symlink` is the target of the link, written as given (absolute, or relative to the folder of `path`): one line, without control characters.',
    hint: 'write the target on one line, e.g. `../usr/lib/os-release`',
  },
  'metadata/invalid-os-release-key': {
    summary: 'invalid os-release key',
    explanation: '/etc/os-release keys are shell variable names in upper case: `^[A-Z][A-Z0-9_]*$`, e.g. `PRETTY_NAME`, `IMAGE_TAG`, `KAIROS_VERSION`.',
    hint: 'write the key in upper case letters, digits and `_`, starting with a letter',
  },
  'metadata/invalid-os-release-value': {
    summary: 'an os-release value is not one line',
    explanation:
      '/etc/os-release holds one `KEY="value"` assignment per line; a value cannot span lines or hold control characters. Quotes, `$`, backslashes and backticks are fine: derivc escapes them as the format says.',
    hint: 'write the value on one line, without control characters',
  },
  'metadata/os-release-conflict': {
    summary: 'an os-release key is set twice',
    explanation:
      '`boot.grubEntryName` is written as `GRUB_ENTRY_NAME` in /etc/os-release; setting `metadata.osRelease.GRUB_ENTRY_NAME` too would leave the result to an order nobody reads. Keep one of them.',
  },
  'template/unknown-variable': {
    summary: 'a template names a variable that does not exist or has no value',
    explanation:
      '`metadata.osRelease` values and `files[].content` with `template: true` are Handlebars templates rendered when the manifest is compiled, in strict mode: every variable must exist. The variables are `name`, `version`, `description`, `vendor`, `url`, `family`, `platform`, `image` (the first build tag), `upgradeImage`, `toolkit.flavor`, `toolkit.version` and `args.<NAME>` (from `build.args`). `description`, `vendor`, `url`, `upgradeImage` and `toolkit.*` exist only when the manifest sets them: print them inside `{{#if x}}…{{/if}}` when they are optional. There is no clock: put a build date in `build.args`.',
  },
  'template/invalid': {
    summary: 'a template does not parse or render',
    explanation:
      'A Handlebars template in `metadata.osRelease` or `files[].content` (`template: true`) has a syntax error, or uses a partial or helper that does not exist. Variables are written `{{name}}`; a literal `{{` is written `\\{{`. The helpers are `if`, `unless`, `each`, `with` and `lookup`.',
  },
  'path/outside-manifest-dir': {
    summary: "a local path leaves the manifest's folder",
    explanation:
      '`files[].source`, `overlay`, `oemDir` and `targets.iso.overlay` must stay inside the folder that holds the manifest \u2014 after resolving symlinks \u2014 so that a build context can never pick up files such as ~/.ssh or /etc/shadow. A symlink inside `overlay` or `oemDir` is copied as a symlink and never followed, so its target may point anywhere; only what derivc reads must stay inside.',
  },
  'path/not-found': { summary: 'a local path does not exist', explanation: "The path is relative to the manifest's folder." },
  'path/wrong-kind': {
    summary: 'a local path is a file where a directory is expected, or the reverse',
    explanation: '`files[].source` names a file; `overlay`, `oemDir` and `targets.iso.overlay` name directories.',
  },
  'oemDir/ignored-file': {
    summary: 'a file in oemDir that the toolkit ignores',
    explanation: 'The cOS runner reads only `.yaml`/`.yml` files from /system/oem. Other files would be copied but never used.',
  },
  'system/plaintext-password': {
    summary: 'a plaintext password in the manifest',
    explanation:
      'The manifest is committed to git; a plaintext password would be public to everyone who can read the repository, and it ends up in the image. Store a crypt hash in `passwordHash`.',
    hint: 'replace `password:` with `passwordHash:` \u2014 generate one with `openssl passwd -6` or `mkpasswd -m sha-512`',
  },
  'system/invalid-password-hash': {
    summary: 'passwordHash is not a crypt hash',
    explanation: '`passwordHash` must be a crypt(3) hash: `$6$\u2026` (SHA-512), `$5$\u2026`, `$y$\u2026` (yescrypt), `$2b$\u2026` (bcrypt) or `$1$\u2026`.',
    hint: 'generate one with `openssl passwd -6` or `mkpasswd -m sha-512`',
  },
  'system/invalid-user-name': {
    summary: 'invalid user name',
    explanation: 'User names are lowercase letters, digits, `_` and `-`, starting with a letter or `_`, up to 32 characters.',
    hint: 'use a name such as `admin` or `svc_backup`',
  },
  'system/invalid-hostname': {
    summary: 'invalid hostname',
    explanation:
      "A hostname is up to 64 characters (the kernel's limit) of dot-separated labels, each 1\u201363 letters, digits or dashes, not starting or ending with a dash.",
    hint: 'use a name such as `edge-01` or `node1.example.com`',
  },
  'system/invalid-sysctl-key': {
    summary: 'invalid sysctl key',
    explanation: 'sysctl keys are dotted lowercase names such as `net.ipv4.ip_forward`.',
    hint: 'write the dotted form, e.g. `net.ipv4.ip_forward`',
  },
  'system/invalid-module': {
    summary: 'invalid kernel module name',
    explanation: 'Module names are letters, digits, `_` and `-` (e.g. `br_netfilter`). Options belong in a modprobe.d file.',
    hint: 'write the bare module name, e.g. `br_netfilter`',
  },
  'system/invalid-unit': {
    summary: 'invalid systemd unit name',
    explanation: 'Unit names are letters, digits and `:_.@-`; a name without a suffix means `.service`.',
    hint: 'write a unit name such as `sshd` or `k3s.service`',
  },
  'system/invalid-env-name': {
    summary: 'invalid environment variable name',
    explanation: 'Names are letters, digits and `_`, not starting with a digit.',
    hint: 'use a name such as `HTTP_PROXY`',
  },
  'system/broken-ssh-key': {
    summary: 'an SSH public key is cut, mislabelled or too weak',
    explanation:
      "The key's base64 body must decode to exactly one key of the type the line names (ed25519: 32 bytes; ECDSA: a point of the named curve; RSA: at least 1024 bits). A key pasted over two lines in plain YAML has its line break folded into a space: the line still looks like `type base64 comment`, but the key is cut in two, sshd refuses it, and the user cannot log in.",
  },
  'system/invalid-ssh-key': {
    summary: 'invalid SSH public key',
    explanation: 'An authorized key is one line: type (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-\u2026`, `sk-\u2026`), base64 key, optional comment.',
    hint: 'paste the content of your `.pub` file',
  },
  'system/service-conflict': { summary: 'a unit is enabled and also disabled or masked', explanation: 'The two settings contradict each other; keep one.' },
  'system/duplicate-user': { summary: 'a user is defined twice', explanation: 'Merge the two entries into one.' },
  'layout/invalid-path': {
    summary: 'invalid layout path',
    explanation: 'Layout paths are absolute directories such as `/var/lib/myapp`.',
    hint: 'write an absolute path, e.g. `/var/lib/myapp`',
  },
  'layout/invalid-overlay': {
    summary: 'invalid overlay setting',
    explanation: '`layout.overlay` is `tmpfs:<n>%`, `tmpfs:<size>`, `LABEL=<label>` or `UUID=<uuid>`.',
    hint: 'write e.g. `tmpfs:25%` or `LABEL=COS_OVERLAY`',
  },
  'layout/label-xor-uuid': {
    summary: 'a volume needs exactly one of label or uuid',
    explanation: 'Each `layout.volumes` entry is found either by filesystem label or by UUID.',
  },
  'layout/path-overlap': {
    summary: 'a path is both ephemeral and persistent',
    explanation:
      'The cOS layout mounts `rwPaths` as ephemeral overlays first and `persistentPaths` on top. A path in both lists, or an ephemeral path inside a persistent one, loses its persistence. A persistent path inside an ephemeral one (rw `/etc`, persistent `/etc/ssh`) works only with bind-mounted state: set `persistentBind: true`.',
  },
  'layout/nested-path': {
    summary: 'a layout path is covered by another one in the same list',
    explanation: 'The outer path already covers it; the inner entry is redundant.',
  },
  'boot/invalid-cmdline': {
    summary: 'invalid kernel argument',
    explanation:
      'Each `boot.cmdline` item is one kernel argument: no spaces, quotes, `;`, `$`, backslashes or braces, because it is written into a GRUB script.',
    hint: 'write one token per item, e.g. `net.ifnames=0`',
  },
  'boot/invalid-console': {
    summary: 'invalid console',
    explanation: 'Consoles are device names with optional options, such as `tty1` or `ttyS0,115200n8`.',
    hint: 'write e.g. `ttyS0,115200`',
  },
  'boot/invalid-label': { summary: 'invalid filesystem label', explanation: 'Labels are letters, digits, `_` and `-`.', hint: 'use e.g. `ACME_STATE`' },
  'boot/invalid-entry-name': {
    summary: 'invalid GRUB entry name',
    explanation: 'The menu title goes into /etc/os-release and the GRUB menu: printable text without quotes, `$`, backslashes or backticks.',
    hint: 'use plain text such as `Acme OS`',
  },
  'boot/cmdline-too-long': {
    summary: 'the kernel arguments do not fit on the kernel command line',
    explanation:
      "`boot.cmdline` and `boot.console` (with those of the upstream derivatives) share one kernel command line with the boot loader's, the toolkit's and derivc's own arguments. The kernel keeps at most 2047 bytes of it (COMMAND_LINE_SIZE on x86 and arm64) and silently drops the rest; much longer, and GRUB cannot even read the generated bootargs.cfg. derivc keeps 512 bytes for the others' arguments.",
  },
  'boot/label-too-long': {
    summary: 'a partition label is longer than its filesystem allows',
    explanation:
      'Partition labels (oem, state, recovery, persistent) are ext4 labels, and system image labels (active, passive, system) ext2 labels: at most 16 characters.',
  },
  'boot/duplicate-label': {
    summary: 'two partitions or images share a label',
    explanation: 'Boot finds partitions and images by label; two with the same label make the choice arbitrary.',
  },
  'upgrade/invalid-image': {
    summary: 'invalid upgrade image',
    explanation: '`upgrade.image` is a repository without tag or digest; the tag is `metadata.version`.',
    hint: 'write the repository only, e.g. `registry.example.com/acme/os`',
  },
  'build/invalid-tag': {
    summary: 'invalid image tag',
    explanation: '`build.tags` are full references `repo:tag`.',
    hint: 'write e.g. `registry.example.com/acme/os:1.0.0`',
  },
  'build/invalid-arg-name': {
    summary: 'invalid build argument name',
    explanation: 'Build argument names are letters, digits and `_`, not starting with a digit.',
    hint: 'use a name such as `HTTP_PROXY`',
  },
  'build/invalid-env-name': {
    summary: 'invalid environment variable name',
    explanation: '`build.env` names are letters, digits and `_`, not starting with a digit.',
    hint: 'use a name such as `HTTP_PROXY`',
  },
  'build/invalid-env-value': {
    summary: 'invalid environment variable value',
    explanation: '`build.env` values are single-line strings (Dockerfile ENV).',
    hint: 'write the value on one line, quoted if it looks like a number',
  },
  'build/invalid-step-name': {
    summary: 'invalid build step name',
    explanation: 'A build step name is one non-empty line: build progress and errors show it.',
    hint: 'write a short name on one line, e.g. `name: install the agent`',
  },
  'build/invalid-step-run': {
    summary: 'invalid build step command',
    explanation:
      '`run` is a list of strings (exec form: the program and its arguments, no shell) or one string (a script run by `/bin/sh -eu -c`). Neither may be empty or hold a NUL character.',
    hint: 'write e.g. `run: [update-ca-certificates]` or `run: "make -C /src install"`',
  },
  'build/invalid-step-at': {
    summary: 'unknown build step position',
    explanation:
      '`at` says when a step runs: `after-packages` (before the toolkit), `after-toolkit`, `after-files` (the default: after files and overlay) — all before the initrd is built — or `final` (after every setting).',
    hint: 'use one of `after-packages`, `after-toolkit`, `after-files`, `final`',
  },
  'build/invalid-pin': {
    summary: 'unknown `build.pin`',
    explanation:
      "`build.pin` says how a derivative names its upstream derivative's image: `tag` (the default: `FROM` the upstream's first tag) or `digest` (`FROM repo@sha256:…`, the digest `derivc build --push` recorded when it pushed the upstream).",
    hint: 'use `tag` or `digest`',
  },
  'build/pin-without-upstream': {
    summary: '`build.pin: digest` in a manifest without an upstream derivative',
    explanation:
      '`build.pin: digest` pins the image of the upstream derivative (`base.derivative`) to the digest its push recorded. A manifest built from `base.image` has no such upstream; pin its base image in `base.image` itself (`repo@sha256:…`) and drop `build.pin`.',
  },
  'build/pin-unpushed': {
    summary: "`build.pin: digest`, and the upstream's push is not recorded",
    explanation:
      "With `build.pin: digest` a downstream builds FROM the digest of its upstream as pushed: `derivc build --push` records it in the upstream's output directory (`derivc.pushed.json`, valid for one build ID). None is recorded for the upstream's current build — it was never pushed, or changed since. `derivc build` stops (an image built from a tag would not be what was asked for); `compile`, `plan` and `diff` use the upstream's tag and warn. Push the upstream first: `derivc build upstream.yaml --push`, or `derivc build --push` of both, which pushes the upstream before the downstream is compiled.",
  },
  'build/push-no-registry': {
    summary: 'a tag to push names no registry',
    explanation:
      "`derivc build --push` pushes every tag of `build.tags` to the registry its first component names (`registry.example.com/acme/os:1`, `localhost:5000/os:1`, `docker.io/acme/os:1`). A tag without one (`acme/os:1`, which the docker CLI would send to Docker Hub unasked) or derivc's placeholder `derivc.local/…` (the default tag when neither `build.tags` nor `upgrade.image` is set) is refused before anything is built.",
    hint: 'name the registry in `build.tags` (for Docker Hub: `docker.io/ORG/NAME:TAG`)',
  },
  'build/push-credentials': {
    summary: "the registry's credentials cannot be read",
    explanation:
      'derivc finds registry credentials as the docker CLI does: $DOCKER_CONFIG/config.json (default ~/.docker), its `credHelpers` entry for the registry, else `credsStore`, else the `auths` entry. The config file could not be read, or the credential helper (`docker-credential-NAME` on PATH) failed. Nothing was pushed.',
    hint: 'check `docker login REGISTRY` works with the same DOCKER_CONFIG and PATH',
  },
  'build/push-unauthorized': {
    summary: 'the registry refused the push',
    explanation:
      "The registry answered that the credentials are missing, wrong, or not allowed to push to this repository. derivc sends the credentials the docker CLI would (from $DOCKER_CONFIG/config.json, a credential helper, or none); the message says which it found. Log in (`docker login REGISTRY`) or fix the helper's entry, and check the account may push to the repository.",
    hint: 'log in with `docker login REGISTRY` (same DOCKER_CONFIG), or check the account may push to this repository',
  },
  'build/push-unreachable': {
    summary: 'the Docker Engine cannot reach the registry',
    explanation:
      "The Engine, not derivc, talks to the registry: the registry host must resolve and answer from where the Engine runs, over TLS with a certificate the Engine trusts (/etc/docker/certs.d/HOST/ca.crt) unless it is listed in the daemon's `insecure-registries`.",
    hint: 'check `docker push` of the same tag works on this Engine',
  },
  'build/push-failed': {
    summary: 'the push of the image failed',
    explanation:
      'The Engine or the registry stopped the push for a reason other than credentials or reachability; the message is theirs. The image is built and tagged; `derivc build --push` again pushes it without rebuilding.',
  },
  'build/duplicate-step': {
    summary: 'two build steps share a name',
    explanation: 'Build progress and failures name steps by `name`; each must be unique.',
    hint: 'give each step its own name',
  },
  'targets/invalid-iso-label': {
    summary: 'invalid ISO volume label',
    explanation:
      'The ISO label is an ISO 9660 volume id: up to 32 uppercase letters, digits and `_`. It also appears in the live boot command line (`root=live:CDLABEL=\u2026`).',
    hint: 'use e.g. `ACME_LIVE`',
  },
  'targets/invalid-name': {
    summary: 'invalid media file name',
    explanation: 'Media names become file names: letters, digits, `.`, `_`, `-`.',
    hint: 'use e.g. `acme-os-1.0.0`',
  },
  'targets/raw-too-small': {
    summary: 'the raw disk cannot hold its partitions',
    explanation:
      "`targets.raw.size` (or `targets.ova.diskSize` for the OVA's disk) must hold the partition tables, the BIOS boot and EFI partitions the firmware needs, and every partition. `derivc validate` reports a stated partition size that cannot fit at its own line. Sizes the manifest leaves out (recovery, state) are chosen when the image is built, from its size, with room for the recovery squashfs and for the active and passive system images; when those do not fit the disk, `derivc build` says so at `size` before it makes anything. Make the disk larger or state smaller partitions.",
  },
  'targets/packer-credential': {
    summary: 'a credential in the packer target',
    explanation:
      "derivc never writes credentials into templates: every credential is a Packer variable that you set at build time (`PKR_VAR_\u2026` or your cloud CLI's environment).",
  },
  'targets/packer-no-login': {
    summary: 'packer cannot log in to the VM',
    explanation:
      'The qemu, virtualbox-iso and vmware-iso templates boot the live ISO (or, for a bare derivative, the raw disk), log in over SSH with a password to run the installer and power the VM off. Packer is given the password (`ssh_password`) at build time; the system must have a user with that password: one of `system.users` with a `passwordHash` (in this manifest or an upstream one), root or a user with passwordless sudo, and an SSH server that allows password logins.',
  },
  'targets/packer-no-installer': {
    summary: 'the packer VM would have nothing to install',
    explanation:
      "virtualbox-iso and vmware-iso start from the live ISO and run the toolkit's installer onto the VM's disk. A bare derivative (`toolkit.source: none`) has no installer, so the disk would stay empty; VirtualBox and VMware cannot start from derivc's raw disk. Use the qemu builder (it starts from the raw disk), the ova target, or a toolkit.",
  },
  'schema/invalid-size': {
    summary: 'invalid size',
    explanation: 'Sizes are a positive integer with a binary unit: `64MiB`, `8GiB`.',
    hint: 'write e.g. `8GiB`',
  },
  'schema/invalid-duration': {
    summary: 'invalid duration',
    explanation: 'Durations are a positive integer with a unit: `ms`, `s`, `m` or `h` (`90s`, `5m`).',
    hint: 'write e.g. `5m`',
  },
  'toolkit/invalid-source': {
    summary: 'invalid toolkit source',
    explanation: '`toolkit.source` is one of luet, image, base, none.',
    hint: 'use one of `luet`, `image`, `base`, `none`',
  },
  'toolkit/invalid-image-ref': {
    summary: 'invalid toolkit image reference',
    explanation: 'Toolkit images (`luetImage`, `image`) are OCI references `[registry/]repo[:tag][@sha256:digest]`.',
    hint: 'write e.g. `quay.io/luet/base:0.32.0`',
  },
  'toolkit/invalid-repository': {
    summary: 'invalid luet repository',
    explanation: 'A luet repository is an image repository reference without tag, e.g. `quay.io/costoolkit/releases-green`.',
    hint: 'write e.g. `quay.io/costoolkit/releases-green`',
  },
  'toolkit/invalid-package': {
    summary: 'invalid luet package',
    explanation: 'luet packages are `category/name`, optionally `@version` (e.g. `meta/cos-minimal`).',
    hint: 'write e.g. `meta/cos-minimal`',
  },
  'toolkit/invalid-flavor': {
    summary: 'invalid toolkit flavor',
    explanation: '`toolkit.flavor` is cos, elemental or kairos: whose boot files and cloud-config runner the image carries.',
    hint: 'use one of `cos`, `elemental`, `kairos`',
  },
  'toolkit/invalid-version': {
    summary: 'invalid toolkit release',
    explanation:
      "`toolkit.version` is a release number such as `v2.3.2` (the `v` is optional). For Kairos it is the Kairos release, not the framework image's version.",
    hint: 'write e.g. `version: v2.3.2`',
  },
  'toolkit/invalid-feature': {
    summary: 'invalid `elemental init` feature name',
    explanation:
      '`toolkit.features` lists the features `elemental init` installs, by the names that Elemental release uses: lowercase words joined by `-`, e.g. `immutable-rootfs`, `grub-config`, `dracut-config`. Leave `features` out to install all that release has.',
    hint: 'write feature names such as `grub-config`, or leave `features` out for all of them',
  },
  'toolkit/features-need-elemental': {
    summary: '`toolkit.features` without `elemental init`',
    explanation:
      '`features` chooses what `elemental init` installs, and only `source: image` with `mode: elemental` runs `elemental init`. A framework image is copied whole onto the image: there is nothing to choose.',
    hint: 'remove `features`, or use `mode: elemental` with an Elemental toolkit image',
  },
  'toolkit/invalid-repository-reference': {
    summary: 'invalid luet repository reference',
    explanation:
      "`repository.reference` pins a luet repository to one snapshot: the tag of its repository index, as luet's `reference` takes it (e.g. `20231206170908-repository.yaml`): letters, digits, `_`, `.` and `-`.",
    hint: 'write the tag of the repository snapshot, e.g. `20231206170908-repository.yaml`',
  },
  'toolkit/packages-without-luet': {
    summary: 'luet packages where no luet is available',
    explanation:
      '`toolkit.packages` on top of a toolkit image, a base image or an upstream derivative are installed with the luet the image carries (cOS and Kairos images have one) or with one copied from `toolkit.luetImage`. Elemental images carry no luet, and a downstream of a derivative without a toolkit has none.',
    hint: 'add `luetImage:` under `toolkit`, e.g. `luetImage: quay.io/luet/base:0.32.0`',
  },
  'toolkit/luet-without-packages': {
    summary: '`repository` or `luetImage` without luet packages',
    explanation:
      'With `source: image` or `source: base`, `repository` and `luetImage` only serve `toolkit.packages`: the luet repository and the luet binary derivc installs those packages with. Without `packages` they do nothing.',
    hint: 'add `packages:` under `toolkit`, or remove the key',
  },
  'toolkit/invalid-binary': {
    summary: 'invalid toolkit binary path',
    explanation: '`binary` is the absolute path of the toolkit binary inside the toolkit image, e.g. `/usr/bin/elemental`.',
    hint: 'write an absolute path such as `/usr/bin/elemental`',
  },
  'schema/invalid-text': {
    summary: 'text contains characters that are not allowed',
    explanation: 'Free text may not contain NUL or other control characters that would corrupt generated files.',
    hint: 'remove control characters from the text',
  },
  'schema/invalid-relative-path': {
    summary: 'invalid relative path',
    explanation: 'Paths to local files and folders are relative to the manifest and use letters, digits and `._@+,=~-` in each segment.',
    hint: 'write a path relative to the manifest, e.g. `files/motd`',
  },
  'system/invalid-timezone': {
    summary: 'invalid time zone',
    explanation: 'Time zones are tz database names such as `Europe/Berlin` or `UTC`.',
    hint: 'write e.g. `UTC` or `Europe/Berlin`',
  },
  'system/invalid-keymap': { summary: 'invalid keymap', explanation: 'Keymaps are console keymap names such as `us` or `de-latin1`.', hint: 'write e.g. `us`' },
  'system/invalid-locale': { summary: 'invalid locale', explanation: 'Locales look like `en_US.UTF-8`.', hint: 'write e.g. `en_US.UTF-8`' },
  'system/invalid-group-name': {
    summary: 'invalid group name',
    explanation: 'Group names follow the same rules as user names: lowercase letters, digits, `_` and `-`.',
    hint: 'use a name such as `wheel`',
  },
  'system/invalid-path': {
    summary: 'invalid path',
    explanation: 'Shells and home directories are absolute paths.',
    hint: 'write an absolute path, e.g. `/bin/bash` or `/home/ops`',
  },
  'system/invalid-uid': { summary: 'invalid uid', explanation: 'User ids are integers from 0 to 4294967294.', hint: 'use a number such as `1000`' },
  'system/invalid-sysctl-value': {
    summary: 'invalid sysctl value',
    explanation: 'sysctl values are single-line strings or numbers.',
    hint: 'write the value on one line, e.g. `1`',
  },
  'system/invalid-env-value': {
    summary: 'invalid environment value',
    explanation: 'Environment values are single-line strings: they are written to /etc/environment.',
    hint: 'write the value on one line',
  },
  'system/invalid-nameserver': {
    summary: 'invalid name server',
    explanation: 'Name servers are IPv4 or IPv6 addresses.',
    hint: 'write an IP address, e.g. `1.1.1.1`',
  },
  'system/invalid-search-domain': {
    summary: 'invalid DNS search domain',
    explanation: 'Search domains are domain names such as `example.com`.',
    hint: 'write a domain name, e.g. `corp.example.com`',
  },
  'system/invalid-dns-option': {
    summary: 'invalid resolver option',
    explanation: 'Resolver options are resolv.conf options such as `ndots:2` or `edns0`.',
    hint: 'write e.g. `ndots:2`',
  },
  'layout/invalid-label': {
    summary: 'invalid volume label',
    explanation: 'Volume labels are letters, digits, `_` and `-`.',
    hint: 'use e.g. `COS_PERSISTENT`',
  },
  'layout/invalid-uuid': {
    summary: 'invalid volume UUID',
    explanation: 'A filesystem UUID such as `2f1d\u2026` in its canonical form.',
    hint: 'write the UUID as `blkid` prints it',
  },
  'build/invalid-arg-value': {
    summary: 'invalid build argument value',
    explanation: 'Build argument values are single-line strings.',
    hint: 'write the value on one line, quoted if it looks like a number',
  },
  'build/invalid-label-key': {
    summary: 'invalid image label key',
    explanation: 'Label keys are reverse-DNS style names: lowercase letters, digits, dots and dashes.',
    hint: 'use a key such as `com.example.owner`',
  },
  'targets/invalid-option': {
    summary: 'invalid target option',
    explanation:
      "The value is outside what the target accepts: a size that is not whole MiB where the target needs MiB, a cloud disk smaller than the disk the image is made from, an EBS volume type that cannot boot, a VM firmware the ISO does not boot. `derivc validate` reports it at the option; `derivc schema` shows each option's form.",
  },
  'targets/invalid-identifier': {
    summary: 'a target option is not in the form its provider uses',
    explanation:
      "Options that name something of a cloud or a hypervisor — a region or zone, an instance, machine or VM size, a subnet, a project, a resource group, an image name or family, a guest OS type — have a fixed form (`eu-central-1`, `t3.medium`, `subnet-0123456789abcdef0`, `Standard_D2s_v3`, `otherLinux64Guest`). A value outside it would only fail much later, inside Packer or the hypervisor; it also reaches the generated HCL and OVF, so nothing else is accepted. `derivc schema` shows each option's form and an example.",
    hint: 'write it as the provider spells it, e.g. `eu-central-1`, `t3.medium` or `otherLinux64Guest`',
  },
  'targets/unsupported-firmware': {
    summary: 'the architecture cannot boot with this firmware',
    explanation:
      'GRUB has a BIOS platform (i386-pc) for amd64 only: an arm64 ISO, disk or VM boots with UEFI. The default firmware of the ISO and the raw disk is both, so an arm64 derivative states `firmware: [uefi]` for them.',
  },
  'targets/unsupported-arch': {
    summary: 'the target does not support this architecture',
    explanation: 'The packer target writes templates for amd64 images (its builders boot x86 VMs); leave it out of an arm64 derivative.',
  },
  'cloud-config/invalid-owner': {
    summary: 'invalid owner or group id',
    explanation: '`owner` and `group` in yip are numeric ids (0 for root); `ownerstring` takes `user:group` names.',
    hint: 'write a number such as `0`, or use `ownerstring: root:root`',
  },
  'cloud-config/invalid-encoding': {
    summary: 'invalid content encoding',
    explanation: 'yip decodes `b64`/`base64`, `gz`/`gzip` and their `+b64` combinations.',
    hint: 'use e.g. `encoding: b64`',
  },
  'cloud-config/invalid-provider': {
    summary: 'invalid datasource provider',
    explanation:
      'yip knows aws, azure, gcp, hetzner, openstack, packet, scaleway, vultr, digitalocean, metaldata, cdrom and file, vmware (yip v1.1), config-drive (v1.4.4) and maas (v1.25). yip ignores other names silently; derivc reports them, since they are typos.',
  },
  'cloud-config/invalid-filesystem': {
    summary: 'invalid filesystem',
    explanation:
      'Partitions created by `layout` are ext2, ext3, ext4, xfs, fat or vfat; btrfs (yip v1.10, Elemental v1.2), swap (yip v1.11), fat16 and fat32 (v1.19); noformat, none and `-` leave the partition unformatted (v1.24).',
    hint: 'use e.g. `filesystem: ext4`',
  },
  'cloud-config/invalid-size': {
    summary: 'invalid partition size',
    explanation: '`layout` sizes are MiB as integers; 0 means all free space.',
    hint: 'write a number of MiB, e.g. `size: 8192`',
  },
  'cloud-config/invalid-uid': {
    summary: 'invalid uid',
    explanation: 'yip user ids are numbers (written as a number or a string of digits).',
    hint: 'write e.g. `uid: 1000`',
  },
  'compile/oem-conflict': {
    summary: 'an oemDir file has the name of a generated file',
    explanation:
      'derivc writes 02_upgrades.yaml (luet toolkit with `upgrade`), 2N_derivc_layout.yaml, 3N_derivc_system.yaml and 5N_derivc_stages.yaml into /system/oem (N is 0 for a derivative built from an image, 1 for its downstream, …). An oemDir file with one of those names would silently replace the generated one; rename it.',
  },
  'compile/invalid-cloud-config': {
    summary: 'a generated cloud-config file would be invalid',
    explanation:
      'derivc re-validates every cloud-config file it generates with the same schema as hand-written ones. This points at the manifest part that produced the invalid file; it usually means a value the manifest schema accepts that yip does not.',
  },
  'parse/lone-surrogate': {
    summary: 'a string holds a lone UTF-16 surrogate',
    explanation:
      'A `\\uD800`–`\\uDFFF` escape that is not half of a pair makes a string no UTF-8 file can carry: derivc would have to write a replacement character instead of what the manifest says. Write the character itself, or as one `\\UXXXXXXXX` escape.',
    hint: 'write the character itself, or as one `\\UXXXXXXXX` escape (e.g. `\\U0001F600`)',
  },
  'parse/complex-key': {
    summary: 'a mapping key is a list or a mapping',
    explanation: "YAML allows `? [a, b]: value`, but a manifest's keys are plain names; such a key cannot be addressed or validated.",
  },
  'path/invalid-symlink': {
    summary: 'a symlink in overlay or oemDir cannot be copied',
    explanation:
      'Symlinks in `overlay` and `oemDir` are copied into the image as symlinks, never followed (their target may exist only in the image). The link text must be a path a file system can hold: not empty, at most 4095 bytes, no NUL byte, valid UTF-8.',
  },
  'path/symlink-loop': {
    summary: 'a path is a symlink loop',
    explanation:
      'A symlink on the way to the file or folder points back at itself (directly or through other links), so there is nothing to read. Fix or remove the link.',
  },
  'path/unwritable': {
    summary: 'a file name derivc cannot write into the build context',
    explanation:
      "Every file of `files`, `overlay` and `oemDir` is written into the build context (`files/…`, `overlay/…`, `rootfs/system/oem/…`). Names ending in `.derivc-tmp` are reserved for derivc's temporary files, and backslashes are refused; rename the file.",
  },
  'files/path-conflict': {
    summary: "a files path is also another files path's folder",
    explanation: '`/etc/x` and `/etc/x/y` cannot both be written: the first makes `/etc/x` a file, the second needs it to be a folder. Rename one of them.',
  },
  'path/too-deep': {
    summary: 'a folder is nested too deeply',
    explanation: 'derivc reads oemDir and overlay folders up to 16 levels deep; deeper folders are not validated or copied. Flatten the structure.',
  },
  'path/too-many-files': {
    summary: 'a folder holds too many files',
    explanation:
      'derivc reads at most 10,000 files from oemDir or an overlay; the rest would be silently missing from the image, so this is an error. Ship large trees as a package or an image layer.',
  },
  'files/owner-created-at-boot': {
    summary: 'a file is owned by a user that only exists at boot',
    explanation:
      'With a toolkit, `system.users` are created by cloud-config when the system boots; the image build runs `chown` earlier, when those names do not exist, and fails. Use numeric ids.',
  },
  'build/engine-unreachable': {
    summary: 'the Docker Engine does not answer',
    explanation:
      'derivc builds through the Docker Engine API, at DOCKER_HOST or /var/run/docker.sock. Start the engine (`dockerd &`, or `systemctl start docker`), install it (`apt-get install docker.io`), or point DOCKER_HOST at one. `derivc doctor` checks the host.',
  },
  'build/base-image-missing': {
    summary: 'the base image is not on this machine and cannot be pulled',
    explanation:
      'The Engine looked for the `base.image` locally, then tried its registry and failed. Without a registry, load the image first (`docker load`, or build a Debian base with mmdebstrap and `docker import`).',
  },
  'build/package-not-found': {
    summary: "a package does not exist in the image's repositories",
    explanation:
      'The package manager of the base distro could not find a package the manifest installs. Package names differ between families (openssh vs openssh-server); the repositories in `packages.repositories` may be missing one.',
  },
  'build/download-digest': {
    summary: 'a downloaded file has another sha256 than the manifest says',
    explanation:
      'A `files` item with `url` was downloaded at build time and its SHA-256 digest is not the `sha256` the manifest gives: the file at the URL changed, or the download was tampered with. The build stops at that item. If the new file is the one you want, check it and put its digest (shown in the hint) in `sha256`.',
  },
  'build/path-missing': {
    summary: 'a files item changes a path the image does not have',
    explanation:
      'A `files` item with only `mode` and/or `owner` changes a path the image already has (after packages, toolkit and files). The path is not there: check the spelling, or create it with `content`, `source`, `url`, `symlink` or `directory: true`.',
  },
  'build/step-failed': {
    summary: 'a build step failed',
    explanation:
      "A RUN step of the generated Dockerfile exited non-zero. The diagnostic points at the manifest part that produced the step and shows the step's last output; build.log in the output directory has all of it.",
  },
  'build/repository-not-found': {
    summary: 'a repository to disable is not in the image',
    explanation:
      '`packages.disableRepositories` names repositories the base image has. The build looked for the name as a zypper/dnf repository section (`[NAME]` in a .repo file) or an apt source file (sources.list.d/NAME.list or NAME.sources; `sources.list` for /etc/apt/sources.list) and found none.',
    hint: 'list what the base image has (`zypper lr`, `dnf repolist --all`, `ls /etc/apt/sources.list.d`) and use that name',
  },
  'build/no-space': {
    summary: 'the build ran out of disk space',
    explanation:
      'Docker keeps images and build cache under its data root. Free space (`docker system df`, `docker image prune`, `docker builder prune`) and build again.',
  },
  'build/buildkit-required': {
    summary: 'the manifest needs BuildKit, the build uses the classic builder',
    explanation:
      'Repository credentials (`packages.repositories[].auth`) reach the package manager through BuildKit secret mounts, which the classic builder does not have; derivc stops before building anything. Build with BuildKit: `--builder buildkit` (or `auto`, the default, on an Engine that has it: Docker 18.09 and later on Linux), without DOCKER_BUILDKIT=0.',
    hint: 'drop `--builder classic` (and DOCKER_BUILDKIT=0), or build on an Engine with BuildKit',
  },
  'build/buildkit-unavailable': {
    summary: 'BuildKit was asked for, the Engine has none',
    explanation:
      "`--builder buildkit` (or DOCKER_BUILDKIT=1) builds through the Engine's BuildKit: API build version 2 with a session, in Docker 18.09 (API 1.39) and later on Linux. This Engine is older or not Linux. `--builder auto` (the default) takes the classic builder there; BuildKit-only features (repository credentials) then cannot be used.",
    hint: 'use `--builder auto` or `--builder classic`, or point DOCKER_HOST at a newer Engine',
  },
  'build/cache-to-needs-buildkit': {
    summary: '--cache-to was given, the build uses the classic builder',
    explanation:
      "`--cache-to REF` pushes the built image to REF with BuildKit's inline cache metadata in it (the build argument BUILDKIT_INLINE_CACHE=1), so that a BuildKit build elsewhere given `--cache-from REF` pulls only the layers whose steps are unchanged. The classic builder writes no such metadata, so derivc stops before building anything rather than push an image no BuildKit build can use as cache. `--cache-from` works with both builders (the classic one only with images already on the Engine).",
    hint: 'drop `--builder classic` (and DOCKER_BUILDKIT=0), or build on an Engine with BuildKit; --cache-from works with both builders',
  },
  'build/cache-from-not-local': {
    summary: 'a --cache-from image is not on the Engine, and the classic builder reads no registry for cache',
    explanation:
      'The classic builder reuses the layers of `--cache-from` images only when those images are on the Engine already; it never pulls them, and an image that is missing is silently no cache at all. derivc says so for each one, and builds without it. BuildKit reads the inline cache of `--cache-from` images from their registry itself (with the credentials `docker login` stored).',
    hint: 'pull the image first (`docker pull REF`), or build with BuildKit',
  },
  'build/cache-push-failed': {
    summary: 'the image was built, the Engine could not tag it as the --cache-to image',
    explanation:
      "With `--cache-to REF` the built image, carrying BuildKit's inline cache, is tagged REF on the Engine and then pushed there the way `--push` pushes a tag (the docker CLI's credentials; a refused push has --push's codes: build/push-unauthorized, build/push-unreachable, build/push-failed). Here the Engine refused the tag itself, so nothing was pushed; the message is the Engine's. The image is built; the build exits 1 because the cache it was asked to export is not there.",
    hint: 'check the Docker Engine, then build again',
  },
  'build/cache-from-unused': {
    summary: 'no step of a BuildKit build came from the --cache-from images',
    explanation:
      'BuildKit reads the inline cache of each `--cache-from` image from its registry and reuses the layers of the steps that match; when it cannot read an image, it says nothing and builds every step. derivc notes a build in which no step after FROM was reused, so a cache that silently does nothing is seen: the image may not exist yet (the first build of a branch), may have been built from other inputs (an earlier step changed, or it was pushed without `--cache-to`, so it carries no cache), or the Engine\'s BuildKit could not read it — credentials (`docker login` for the registry), TLS trust (/etc/docker/certs.d/HOST:PORT/ca.crt), or, on Docker 20.10, a registry named `localhost` or by a loopback IP, to which its BuildKit talks plain HTTP. The Engine\'s log says why with `dockerd --debug` ("error while importing cache manifest").',
    hint: 'check that REF was pushed with `derivc build --cache-to` and that the Engine can read it (`dockerd --debug` logs why it could not)',
  },
  'build/secret-unavailable': {
    summary: "a repository's password cannot be read",
    explanation:
      '`auth.env` names an environment variable of the `derivc build` process: it must be set and not empty. `auth.file` names a file relative to the manifest: a regular file (no symlink on the way) inside the repository, outside `.git`, not tracked by git (a committed password is no secret), at most 64 KiB. derivc checks this before building anything and never shows the value.',
  },
  'build/secret-invalid': {
    summary: "a repository's password cannot be handed to the package manager",
    explanation:
      "The password goes into the credentials file of the family's package manager: one line, no control characters, and for apt (whose auth.conf.d separates fields by spaces) no whitespace. A file's final newline is ignored.",
  },
  'build/contract': {
    summary: 'the built image breaks the derivative contract',
    explanation:
      'After a build derivc checks the image without running it: /boot/vmlinuz and /boot/initrd resolve, /system/oem and the bootargs file the GRUB of the toolkit era reads last (/etc/cos/bootargs.cfg; /etc/elemental/bootargs.cfg with Elemental v2) exist, every persistent path exists, and the toolkit binary is there. An image that fails this would not boot or install.',
  },
  'build/shared-output-dir': {
    summary: 'two manifests of one build would use the same output directory',
    explanation:
      "Each manifest `derivc build` builds gets an output directory of its own, named after `metadata.name`: `.derivc/NAME`, or `DIR/NAME` with `-o DIR` and several manifests. Two manifests with the same name (two versions of one derivative, say) would replace each other's build context and media, so neither is built. Give each its own `metadata.name`, or build them in separate runs, each with its own `-o DIR`.",
  },
  'targets/tool-missing': {
    summary: 'a host tool a target needs is missing',
    explanation:
      'Media are made with host tools (xorriso, grub-mkrescue with its BIOS and UEFI platform files, sqfstar, mtools, …). derivc checks them all before it starts and names the Debian package of each missing one; `derivc doctor` lists every tool and the apt-get line that installs the rest.',
  },
  'test/tool-missing': {
    summary: 'QEMU or the OVMF firmware derivc test needs is missing',
    explanation:
      '`derivc test` boots media in QEMU (qemu-system-x86_64, Debian package qemu-system-x86) under SeaBIOS, and under OVMF (package ovmf: /usr/share/OVMF/OVMF_CODE_4M.fd and OVMF_VARS_4M.fd) for UEFI runs. It checks them before building or booting anything and names the package of each missing one; `--firmware bios` needs no OVMF.',
  },
  'targets/failed': {
    summary: 'making a medium failed',
    explanation:
      "A step of the target's plan (`derivc plan` shows them) failed; the message names it and shows the tool's last output. Nothing was written to the output directory: every target works in a temporary directory next to it and renames finished files into place.",
  },
  'init/no-from': {
    summary: 'the Dockerfile given to `derivc init --from` has no FROM',
    explanation:
      "`derivc init --from Dockerfile` writes the manifest that builds the image the Dockerfile's last stage builds; without a `FROM` there is no image to describe. Name the derivative's Dockerfile, not a fragment of one.",
  },
  'init/unresolved-from': {
    summary: "the final image's FROM needs build arguments that have no default",
    explanation:
      'The last stage, or a stage it is built on, names its image through `ARG`s without a default (Kairos passes them from its build scripts). derivc does not guess them: pass the values the build uses, e.g. `derivc init --from Dockerfile --arg BASE_IMAGE=ubuntu:22.04 --arg FLAVOR=ubuntu`. The manifest then pins that one variant.',
    hint: 'pass each with --arg NAME=VALUE',
  },
  'init/copy-outside': {
    summary: 'a COPY in the Dockerfile reads from outside its directory',
    explanation:
      'A manifest names files relative to itself and never outside its repository, so a `COPY ../x` (or an absolute source) cannot be carried over. The instruction is listed as not mapped in the report; move the file next to the Dockerfile and add a `files` item for it.',
  },
  'suppress/no-reason': {
    summary: 'a `# derivc-ignore` comment gives no reason',
    explanation:
      '`# derivc-ignore CODE: reason` on the line before a manifest (or oemDir) line drops that warning there. The reason after the colon is what a reviewer reads in the pull request; without one the suppression still applies, and this warning asks for it.',
    hint: 'write `# derivc-ignore CODE: why this is fine here`',
  },
  'suppress/unused': {
    summary: 'a `# derivc-ignore` comment suppresses nothing',
    explanation:
      'The next line that is not a comment has no warning with that code (any more): the comment is stale and would silently hide a future warning there. It is reported only when the run has no errors, since stages after an error do not run. Remove the comment.',
  },
  'suppress/unknown-code': {
    summary: 'a `# derivc-ignore` comment names a code derivc does not have',
    explanation: 'The code is not one `derivc explain` lists, so the comment suppresses nothing. The hint names the closest code.',
  },
  'suppress/not-suppressible': {
    summary: 'a `# derivc-ignore` comment names an error code',
    explanation:
      'Only warnings can be suppressed (`derivc explain CODE` says whether a code can be): an error means the derivative would be built wrong or not at all. Fix the line instead, and remove the comment.',
  },
  'config/unknown-key': {
    summary: 'a key derivc.config.yaml does not have',
    explanation: 'derivc.config.yaml has `rules: {CODE: off|warning|error}` and `overrides: [{files: [GLOB…], rules: {…}}]`, nothing else.',
  },
  'config/missing-key': {
    summary: 'a required key of derivc.config.yaml is missing',
    explanation: 'Each `overrides` item needs `files` (globs relative to the config file) and `rules`.',
  },
  'config/wrong-type': {
    summary: 'a value in derivc.config.yaml has the wrong type',
    explanation: '`rules` is a mapping of codes, `overrides` a list of mappings, `files` a list of glob strings.',
  },
  'config/invalid-value': {
    summary: 'a rule setting in derivc.config.yaml is not off, warning or error',
    explanation:
      '`off` drops the warning, `warning` keeps it a warning, `error` makes it fail the run. An error derivc reports stays an error whatever the config says.',
  },
  'config/unknown-code': {
    summary: 'derivc.config.yaml names a code derivc does not have',
    explanation: 'Each key of `rules` is a diagnostic code as `derivc explain` lists it. The hint names the closest code.',
  },
  'config/not-suppressible': {
    summary: 'derivc.config.yaml turns off or lowers an error',
    explanation:
      'Only warnings can be turned off or kept as warnings; errors mean the derivative would be built wrong or not at all. `error` is accepted for any code. `derivc explain CODE` says whether a code can be suppressed.',
  },
} satisfies Record<string, CodeInfo>;

/** A code derivc can emit: a diagnostic with any other code does not type-check. */
export type DiagnosticCode = keyof typeof CATALOGUE;

export const CODES: Readonly<Record<DiagnosticCode, CodeInfo>> = CATALOGUE;

export function isDiagnosticCode(code: string): code is DiagnosticCode {
  return Object.hasOwn(CODES, code);
}

/** A code made at run time (`${prefix}/unknown-key`, a schema's x-derivc-code), checked against the catalogue. */
export function toCode(code: string): DiagnosticCode {
  if (!isDiagnosticCode(code)) throw new Error(`diagnostic code ${code} is not in compiler/codes.ts`);
  return code;
}

export function describeCode(code: string): CodeInfo | undefined {
  return isDiagnosticCode(code) ? CODES[code] : undefined;
}
