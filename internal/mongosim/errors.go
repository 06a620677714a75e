package mongosim

// Server error codes the simulator answers with, named as in
// src/mongo/base/error_codes.yml of mongodb/mongo.
const (
	codeBadValue                  int32 = 2
	codeUserNotFound              int32 = 11
	codeUnauthorized              int32 = 13
	codeMaxTimeMSExpired          int32 = 50
	codeWriteConcernFailed        int32 = 64
	codeUnknownReplWriteConcern   int32 = 79
	codeUnsatisfiableWriteConcern int32 = 100
	codeCommandNotSupported       int32 = 115
	codeMechanismUnavailable      int32 = 334
	codeNotWritablePrimary        int32 = 10107
	codeAtlasError                int32 = 8000 // not a server code: the Atlas proxy's (see doc.go)
	codeUserAlreadyExists         int32 = 51003
)

// codeNames maps the codes a test is likely to inject (Fault.Code without a
// CodeName) to their names in error_codes.yml. Code 64 is named
// WriteConcernFailed up to MongoDB 7.0, the version whose wire protocol
// (maxWireVersion 21) FerretDB reports; 8.x renamed it WriteConcernTimeout.
var codeNames = map[int32]string{
	1:     "InternalError",
	2:     "BadValue",
	6:     "HostUnreachable",
	7:     "HostNotFound",
	8:     "UnknownError",
	9:     "FailedToParse",
	11:    "UserNotFound",
	13:    "Unauthorized",
	18:    "AuthenticationFailed",
	20:    "IllegalOperation",
	26:    "NamespaceNotFound",
	31:    "RoleNotFound",
	46:    "LockBusy",
	50:    "MaxTimeMSExpired",
	59:    "CommandNotFound",
	64:    "WriteConcernFailed",
	79:    "UnknownReplWriteConcern",
	89:    "NetworkTimeout",
	91:    "ShutdownInProgress",
	100:   "UnsatisfiableWriteConcern",
	112:   "WriteConflict",
	115:   "CommandNotSupported",
	189:   "PrimarySteppedDown",
	334:   "MechanismUnavailable",
	8000:  "AtlasError",
	9001:  "SocketException",
	10107: "NotWritablePrimary",
	11000: "DuplicateKey",
	11600: "InterruptedAtShutdown",
	11601: "Interrupted",
	11602: "InterruptedDueToReplStateChange",
	13435: "NotPrimaryNoSecondaryOk",
	13436: "NotPrimaryOrSecondary",
	51003: "Location51003",
}

// retriableCodes is the RetriableError category of error_codes.yml: the
// server labels these RetryableWriteError on retryable writes
// (src/mongo/db/error_labels.cpp, ErrorLabelBuilder::isRetryableWriteError).
var retriableCodes = map[int32]bool{
	6: true, 7: true, 89: true, 91: true, 134: true, 189: true, 9001: true,
	10107: true, 11600: true, 11602: true, 13435: true, 13436: true, 50915: true,
}
