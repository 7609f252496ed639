package apkadb

// Value tags: the high 4 bits of a 32-bit little-endian value.
const (
	typeSpecial = 0x00000000
	typeInt     = 0x10000000
	typeInt32   = 0x20000000
	typeInt64   = 0x30000000
	typeBlob8   = 0x80000000
	typeBlob16  = 0x90000000
	typeBlob32  = 0xa0000000
	typeArray   = 0xd0000000
	typeObject  = 0xe0000000
	typeMask    = 0xf0000000
	valueMask   = 0x0fffffff
)

// Block types: the top 2 bits of a block's first word.
const (
	blockADB  = 0
	blockSig  = 1
	blockData = 2
	blockExt  = 3
)

// blockAlign is the alignment of every block in the file.
const blockAlign = 8

// File header and compression magics.
const (
	magicPlain   = "ADB."
	magicDeflate = "ADBd"
)

// Schemas: the root object's kind, written after "ADB." as a little-endian
// word.
const (
	SchemaPackage = 0x676b6370 // "pckg"
	SchemaIndex   = 0x78646e69 // "indx"
)

// Fields of a package info object (apk_adb.h ADBI_PI_*).
const (
	piName             = 1
	piVersion          = 2
	piHashes           = 3
	piDescription      = 4
	piArch             = 5
	piLicense          = 6
	piOrigin           = 7
	piMaintainer       = 8
	piURL              = 9
	piRepoCommit       = 10
	piBuildTime        = 11
	piInstalledSize    = 12
	piFileSize         = 13
	piProviderPriority = 14
	piDepends          = 15
	piProvides         = 16
	piReplaces         = 17
	piInstallIf        = 18
	piRecommends       = 19
	piLayer            = 20
	piMax              = 21
)

// Fields of a dependency object (ADBI_DEP_*).
const (
	depName    = 1
	depVersion = 2
	depMatch   = 3
	depMax     = 4
)

// Fields of an ACL object (ADBI_ACL_*).
const (
	aclMode   = 1
	aclUser   = 2
	aclGroup  = 3
	aclXattrs = 4
	aclMax    = 5
)

// Fields of a file object (ADBI_FI_*).
const (
	fiName   = 1
	fiACL    = 2
	fiSize   = 3
	fiMtime  = 4
	fiHashes = 5
	fiTarget = 6
	fiMax    = 7
)

// Fields of a directory object (ADBI_DI_*).
const (
	diName  = 1
	diACL   = 2
	diFiles = 3
	diMax   = 4
)

// Fields of the scripts object (ADBI_SCRPT_*), in the order mkpkg writes them.
const (
	scriptTrigger     = 1
	scriptPreInstall  = 2
	scriptPostInstall = 3
	scriptPreDeinst   = 4
	scriptPostDeinst  = 5
	scriptPreUpgrade  = 6
	scriptPostUpgrade = 7
	scriptMax         = 8
)

// ScriptNames are the script types a package may carry, by field index - 1.
var ScriptNames = []string{"trigger", "pre-install", "post-install", "pre-deinstall", "post-deinstall", "pre-upgrade", "post-upgrade"}

// Fields of the package root object (ADBI_PKG_*).
const (
	pkgInfo     = 1
	pkgPaths    = 2
	pkgScripts  = 3
	pkgTriggers = 4
	pkgMax      = 6
)

// Fields of the index root object (ADBI_NDX_*).
const (
	ndxDescription = 1
	ndxPackages    = 2
	ndxMax         = 4
)

// Dependency match bits (apk_version.h).
const (
	verEqual   = 1
	verLess    = 2
	verGreater = 4
	verAny     = verEqual | verLess | verGreater
)

// Signature header values: sign_ver 0, hash_alg APK_DIGEST_SHA512.
const (
	sigVersion = 0
	sigSHA512  = 4
)
