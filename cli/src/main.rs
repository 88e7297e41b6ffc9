//! The `strongroom` command: AWS KMS operations on an embedded keystore,
//! with the AWS CLI's option names and JSON output shapes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use strongroom::api::*;
use strongroom::core::key::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, ExpirationModel, ImportType,
    KeyAgreementAlgorithm, KeySpec, KeyUsage, MacAlgorithm, MessageType, Origin, SigningAlgorithm,
    WrappingAlgorithm, WrappingKeySpec,
};
use strongroom::own_files::{self, same_file};
use strongroom::{
    AuditFilter, AuditVerification, CreateOptions, EncryptionContext, Error, Keystore,
    RootKeySource, Secret,
};

mod envelope_cmd;
mod input;
mod output;

use input::{
    parse_blob, parse_constraints, parse_context, parse_operations, parse_tags, parse_text,
};

/// Strongroom: an embeddable key management service with the AWS KMS model.
#[derive(Parser, Debug)]
#[command(name = "strongroom", version, about, long_about = None)]
struct Cli {
    /// Keystore file.
    #[arg(
        long,
        global = true,
        env = "STRONGROOM_KEYSTORE",
        default_value = "strongroom.db"
    )]
    keystore: PathBuf,
    /// Root key file (base64, hex or 32 raw bytes). Default: the keystore
    /// path with `.key` in place of its extension (`ks.db` -> `ks.key`).
    /// Given on the command line it wins over `STRONGROOM_ROOT_KEY`.
    #[arg(long, global = true, env = "STRONGROOM_ROOT_KEY_FILE")]
    root_key_file: Option<PathBuf>,
    /// Whether `--root-key-file` was given on the command line (not taken
    /// from `STRONGROOM_ROOT_KEY_FILE`).
    #[arg(skip)]
    root_key_file_on_command_line: bool,
    /// Name of an environment variable holding the root key (base64 or hex).
    /// Without this flag, `STRONGROOM_ROOT_KEY` holds the key itself; it is
    /// used unless --root-key-file is given on the command line.
    #[arg(long, global = true)]
    root_key_env: Option<String>,
    /// Name of an environment variable holding a passphrase (Argon2id root
    /// key; its bytes as they are, UTF-8 or not); an unset variable or an
    /// empty passphrase is refused. Refused
    /// together with --root-key-file (given on the command line) or
    /// --root-key-env: a keystore has one root key source. With it,
    /// STRONGROOM_ROOT_KEY and STRONGROOM_ROOT_KEY_FILE are not used.
    #[arg(long, global = true)]
    passphrase_env: Option<String>,
    /// External anchor file of the keystore's integrity state (see the
    /// README, "Rollback and the anchor"): created by `init` and
    /// `import-keystore` (refused if it exists), moved forward
    /// by every write, and checked on every open, so a keystore file put
    /// back to an earlier state is refused. Keep it on other storage than
    /// the keystore. Opening with a missing anchor file fails unless
    /// `--anchor-init` is given (or, for an anchored keystore,
    /// `--anchor-reinit`). A keystore opened with an anchor is anchored: it
    /// opens only with that anchor, or with `--no-anchor`.
    #[arg(long, global = true, env = "STRONGROOM_ANCHOR")]
    anchor: Option<PathBuf>,
    /// With `--anchor`: create a missing anchor file from the keystore as
    /// it is now (trust on first use: a rollback before this run is taken
    /// as current). Refused by `audit verify` (ValidationException), which
    /// writes nothing.
    #[arg(long, global = true, requires = "anchor")]
    anchor_init: bool,
    /// With `--anchor`: re-anchor an anchored keystore whose anchor is lost
    /// with the anchor file given, which must hold no record (created from
    /// the keystore as it is now, trust on first use). The keystore gets a
    /// new anchor ID, so every earlier anchor file is refused from then on;
    /// audited (`ReinitializeKeystoreAnchor`). `--anchor-init` does not
    /// re-anchor an anchored keystore (refused, KMSInvalidStateException).
    /// Refused by `audit verify` (ValidationException), which writes
    /// nothing.
    #[arg(long, global = true, requires = "anchor")]
    anchor_reinit: bool,
    /// Open an anchored keystore without its anchor (refused otherwise with
    /// KMSInvalidStateException). Audited (`OpenKeystoreWithoutAnchor`);
    /// this run neither checks nor moves the anchor, so its writes on a
    /// keystore file put back to an earlier state make the rollback pass
    /// the next anchored open: only for recovery, with the keystore known
    /// to be current.
    #[arg(long, global = true, conflicts_with_all = ["anchor", "anchor_init", "anchor_reinit"])]
    no_anchor: bool,
    /// Rotate the audit log automatically (as `audit rotate`, recorded as a
    /// `RotateAuditLog` service event) once a write leaves it at or past
    /// this many bytes: 65536 to 1073741824 (else ValidationException).
    /// For `serve` above all; a short command whose write crosses the size
    /// waits for the rotation before it exits.
    #[arg(long, global = true, value_name = "BYTES")]
    audit_rotate_bytes: Option<u64>,
    /// Output format of responses: `json` (default) or `text`; any other
    /// value is a usage error (exit 2). For `encrypt-file` / `decrypt-file`:
    /// the output file, `-` (or `/dev/stdout`) for stdout. A symbolic link
    /// is written through: the file it names is rewritten in place, its mode
    /// and owner kept (a secret then has that file's permissions, not
    /// 0600), the link kept (a
    /// link that names no file is refused).
    #[arg(short = 'o', long, global = true)]
    output: Option<String>,
    /// `--output` read as the response format (checked in `main`, where
    /// any other value is a usage error), for the commands other than
    /// `encrypt-file` and `decrypt-file`.
    #[arg(skip)]
    format: Option<OutputFormat>,
    /// The principal (ARN) to act as; default the keystore's administrator.
    #[arg(long, global = true, env = "STRONGROOM_PRINCIPAL")]
    principal: Option<String>,
    /// KMS DryRun: check the request (key, key state, key policy, grants,
    /// parameters) without doing it; fails with DryRunOperationException if
    /// it would have succeeded, else with the error it would have had. For
    /// the operations that take DryRun in KMS (encrypt, decrypt, sign,
    /// create-grant, ...); others fail with ValidationException.
    #[arg(long, global = true)]
    dry_run: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum OutputFormat {
    Json,
    Text,
}

#[derive(Args, Debug)]
struct KeyIdArg {
    /// Key ID or key ARN (an alias name or alias ARN is NotFoundException,
    /// as in KMS).
    #[arg(long)]
    key_id: String,
}

/// `--key-id` of the commands that take an alias too, as in KMS: the
/// cryptographic ones, describe-key and get-public-key.
#[derive(Args, Debug)]
struct AnyKeyIdArg {
    /// Key ID, key ARN, alias name (`alias/x`) or alias ARN.
    #[arg(long)]
    key_id: String,
}

#[derive(Args, Debug)]
struct Paging {
    /// Maximum number of items, as KMS allows: 1-1000 (default 100) for
    /// list-keys, list-key-rotations, list-key-policies; 1-100 (default 50)
    /// for list-aliases, list-grants, list-retirable-grants; 1-50 (default 50)
    /// for list-resource-tags.
    #[arg(long)]
    limit: Option<u32>,
    /// Marker from a previous page's NextMarker.
    #[arg(long)]
    marker: Option<String>,
}

/// `--outfile`; each command gives its help ([`outfile_help`]) with
/// `mut_arg`, naming the field it writes.
#[derive(Args, Debug)]
struct OutFile {
    #[arg(long)]
    outfile: Option<PathBuf>,
}

/// The help of a command's `--outfile`, which writes the raw bytes of
/// `field` (a secret's file has mode 0600 and the field is left out of the
/// JSON response; another's JSON keeps it, in base64).
fn outfile_help(field: &str, secret: bool) -> String {
    let file = if secret {
        "created with mode 0600; the field is then left out of the JSON response"
    } else {
        "the JSON response still has the field, in base64"
    };
    format!(
        "Write the raw bytes of {field} to this file ({file}), or to stdout for `-` \
         or `/dev/stdout` (then no JSON is printed); a symbolic link is written through"
    )
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a new keystore and its root key file; the keystore, its audit
    /// log and the key file are mode 0600. Refused (AlreadyExistsException)
    /// when the keystore, its audit log (an earlier keystore's history:
    /// move it away) or a non-empty `-wal`/`-journal` file of an earlier
    /// keystore (changes SQLite would apply to the new file) exists.
    Init {
        /// Region in ARNs.
        #[arg(long, default_value = "local-1")]
        region: String,
        /// 12-digit account ID in ARNs.
        #[arg(long, default_value = "000000000000")]
        account: String,
        /// Administrator principal (default `arn:aws:iam::<account>:root`).
        #[arg(long)]
        admin_principal: Option<String>,
    },
    /// Write the whole keystore, sealed under its root key, to a file (backup).
    ExportKeystore {
        /// The export file (created with mode 0600, never one of the
        /// keystore's own files), or `-` for stdout.
        #[arg(long)]
        outfile: PathBuf,
    },
    /// Create the keystore (--keystore, must not exist, nor its audit log)
    /// from a sealed export;
    /// with --anchor, a new anchor file (which must not exist) of the
    /// imported state.
    ImportKeystore {
        /// The sealed export (`export-keystore`'s output), or `-` for
        /// standard input; at most 1 GiB, and refused at its first bytes
        /// when they are not an export's (ValidationException naming it).
        #[arg(long)]
        infile: PathBuf,
    },
    /// Migrate a keystore of an older format version (1, 2 or 3) to the
    /// current one, which other commands refuse to open until then. The
    /// migration checks the file as its own version did, then trusts it as
    /// it stands: run it once, with every process using the keystore
    /// stopped, on a file known to be unmodified (docs/FORMAT.md, "Migration
    /// from older format versions"). A current keystore is left as it is.
    MigrateKeystore,
    /// CreateKey.
    CreateKey {
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        key_spec: Option<KeySpec>,
        #[arg(long)]
        key_usage: Option<KeyUsage>,
        #[arg(long)]
        origin: Option<Origin>,
        /// Tags: `TagKey=k,TagValue=v` (repeatable) or a JSON list.
        #[arg(long, num_args = 1..)]
        tags: Vec<String>,
        /// Key policy: `file://path` or the JSON document.
        #[arg(long)]
        policy: Option<String>,
        #[arg(long)]
        bypass_policy_lockout_safety_check: bool,
    },
    /// DescribeKey.
    DescribeKey {
        #[command(flatten)]
        key: AnyKeyIdArg,
        #[command(flatten)]
        tokens: GrantTokens,
    },
    /// ListKeys.
    ListKeys(Paging),
    /// UpdateKeyDescription.
    UpdateKeyDescription {
        #[command(flatten)]
        key: KeyIdArg,
        #[arg(long)]
        description: String,
    },
    /// EnableKey.
    EnableKey(KeyIdArg),
    /// DisableKey.
    DisableKey(KeyIdArg),
    /// ScheduleKeyDeletion.
    ScheduleKeyDeletion {
        #[command(flatten)]
        key: KeyIdArg,
        /// 7-30 days (default 30).
        #[arg(long)]
        pending_window_in_days: Option<u32>,
    },
    /// CancelKeyDeletion.
    CancelKeyDeletion(KeyIdArg),
    /// EnableKeyRotation.
    EnableKeyRotation {
        #[command(flatten)]
        key: KeyIdArg,
        /// 90-2560 days (default 365).
        #[arg(long)]
        rotation_period_in_days: Option<u32>,
    },
    /// DisableKeyRotation.
    DisableKeyRotation(KeyIdArg),
    /// GetKeyRotationStatus.
    GetKeyRotationStatus(KeyIdArg),
    /// RotateKeyOnDemand.
    RotateKeyOnDemand(KeyIdArg),
    /// ListKeyRotations.
    ListKeyRotations {
        #[command(flatten)]
        key: KeyIdArg,
        #[command(flatten)]
        paging: Paging,
    },
    /// CreateAlias.
    CreateAlias {
        #[arg(long)]
        alias_name: String,
        /// Key ID or key ARN the alias points at (an alias is
        /// ValidationException, as in KMS).
        #[arg(long)]
        target_key_id: String,
    },
    /// UpdateAlias.
    UpdateAlias {
        #[arg(long)]
        alias_name: String,
        /// Key ID or key ARN the alias points at from now on (an alias is
        /// ValidationException, as in KMS).
        #[arg(long)]
        target_key_id: String,
    },
    /// DeleteAlias.
    DeleteAlias {
        #[arg(long)]
        alias_name: String,
    },
    /// ListAliases.
    ListAliases {
        /// Only the aliases of this key: key ID or key ARN (an alias is
        /// NotFoundException, as in KMS).
        #[arg(long)]
        key_id: Option<String>,
        #[command(flatten)]
        paging: Paging,
    },
    /// TagResource.
    TagResource {
        #[command(flatten)]
        key: KeyIdArg,
        /// `TagKey=k,TagValue=v` (repeatable) or a JSON list.
        #[arg(long, num_args = 1.., required = true)]
        tags: Vec<String>,
    },
    /// UntagResource.
    UntagResource {
        #[command(flatten)]
        key: KeyIdArg,
        #[arg(long, num_args = 1.., required = true)]
        tag_keys: Vec<String>,
    },
    /// ListResourceTags.
    ListResourceTags {
        #[command(flatten)]
        key: KeyIdArg,
        #[command(flatten)]
        paging: Paging,
    },
    /// Encrypt (up to 4096 bytes).
    #[command(mut_arg("outfile", |a| a.help(outfile_help("CiphertextBlob", false))))]
    Encrypt {
        #[command(flatten)]
        key: AnyKeyIdArg,
        /// `fileb://path` (raw bytes), `file://path` (text) or base64.
        #[arg(long)]
        plaintext: String,
        /// `k=v,k2=v2` or a JSON object.
        #[arg(long)]
        encryption_context: Option<String>,
        #[arg(long)]
        encryption_algorithm: Option<EncryptionAlgorithm>,
        #[command(flatten)]
        tokens: GrantTokens,
        #[command(flatten)]
        out: OutFile,
    },
    /// Decrypt.
    #[command(mut_arg("outfile", |a| a.help(outfile_help("Plaintext", true))))]
    Decrypt {
        /// `fileb://path` or base64.
        #[arg(long)]
        ciphertext_blob: String,
        #[arg(long)]
        encryption_context: Option<String>,
        #[arg(long)]
        key_id: Option<String>,
        #[arg(long)]
        encryption_algorithm: Option<EncryptionAlgorithm>,
        #[command(flatten)]
        tokens: GrantTokens,
        #[command(flatten)]
        out: OutFile,
    },
    /// ReEncrypt.
    #[command(mut_arg("outfile", |a| a.help(outfile_help("CiphertextBlob", false))))]
    ReEncrypt {
        #[arg(long)]
        ciphertext_blob: String,
        #[arg(long)]
        source_encryption_context: Option<String>,
        #[arg(long)]
        source_key_id: Option<String>,
        #[arg(long)]
        destination_key_id: String,
        #[arg(long)]
        destination_encryption_context: Option<String>,
        /// RSAES_OAEP_SHA_1/256 when --source-key-id is an RSA key.
        #[arg(long)]
        source_encryption_algorithm: Option<EncryptionAlgorithm>,
        /// RSAES_OAEP_SHA_1/256 when the destination is an RSA key.
        #[arg(long)]
        destination_encryption_algorithm: Option<EncryptionAlgorithm>,
        #[command(flatten)]
        tokens: GrantTokens,
        #[command(flatten)]
        out: OutFile,
    },
    /// GenerateDataKey.
    #[command(mut_arg("outfile", |a| a.help(outfile_help("Plaintext (the data key)", true))))]
    GenerateDataKey(DataKeyArgs),
    /// GenerateDataKeyWithoutPlaintext.
    #[command(mut_arg("outfile", |a| a.help(outfile_help("CiphertextBlob (the encrypted data key)", false))))]
    GenerateDataKeyWithoutPlaintext(DataKeyArgs),
    /// Serve the keystore over the AWS KMS JSON protocol (see strongroom-server).
    Serve(strongroom_server::cli::ServeArgs),
    /// Sign (RSA or ECC SIGN_VERIFY key).
    #[command(mut_arg("outfile", |a| a.help(outfile_help("Signature", false))))]
    Sign {
        #[command(flatten)]
        key: AnyKeyIdArg,
        /// `fileb://path`, `file://path` or base64: the message (RAW, at most 4096 bytes) or its digest (DIGEST).
        #[arg(long)]
        message: String,
        #[arg(long)]
        message_type: Option<MessageType>,
        #[arg(long)]
        signing_algorithm: SigningAlgorithm,
        #[command(flatten)]
        tokens: GrantTokens,
        #[command(flatten)]
        out: OutFile,
    },
    /// Verify.
    Verify {
        #[command(flatten)]
        key: AnyKeyIdArg,
        #[arg(long)]
        message: String,
        #[arg(long)]
        message_type: Option<MessageType>,
        /// `fileb://path` or base64.
        #[arg(long)]
        signature: String,
        #[arg(long)]
        signing_algorithm: SigningAlgorithm,
        #[command(flatten)]
        tokens: GrantTokens,
    },
    /// GetPublicKey.
    #[command(mut_arg("outfile", |a| a.help(
        "Write the public key to this file: DER SubjectPublicKeyInfo, or PEM with --pem \
         (the JSON response still has PublicKey, DER in base64), or to stdout for `-` \
         (then no JSON is printed)"
    )))]
    GetPublicKey {
        #[command(flatten)]
        key: AnyKeyIdArg,
        #[command(flatten)]
        tokens: GrantTokens,
        #[command(flatten)]
        out: OutFile,
        /// Write --outfile as PEM ("-----BEGIN PUBLIC KEY-----"), as OpenSSL reads it.
        #[arg(long, requires = "outfile")]
        pem: bool,
    },
    /// DeriveSharedSecret (ECDH with a NIST ECC KEY_AGREEMENT key).
    #[command(mut_arg("outfile", |a| a.help(outfile_help("SharedSecret", true))))]
    DeriveSharedSecret {
        #[command(flatten)]
        key: AnyKeyIdArg,
        /// The only value is `ECDH`.
        #[arg(long)]
        key_agreement_algorithm: KeyAgreementAlgorithm,
        /// The peer's public key: DER SubjectPublicKeyInfo on the key's curve,
        /// as `fileb://path` or base64 (e.g. another key's get-public-key output).
        #[arg(long)]
        public_key: String,
        /// Nitro Enclaves attestation (`KeyEncryptionAlgorithm=…,AttestationDocument=…`):
        /// not supported, any value fails with UnsupportedOperationException.
        #[arg(long)]
        recipient: Option<String>,
        #[command(flatten)]
        tokens: GrantTokens,
        #[command(flatten)]
        out: OutFile,
    },
    /// GenerateMac (HMAC key).
    #[command(mut_arg("outfile", |a| a.help(outfile_help("Mac", false))))]
    GenerateMac {
        #[command(flatten)]
        key: AnyKeyIdArg,
        /// `fileb://path`, `file://path` or base64; 1-4096 bytes.
        #[arg(long)]
        message: String,
        #[arg(long)]
        mac_algorithm: MacAlgorithm,
        #[command(flatten)]
        tokens: GrantTokens,
        #[command(flatten)]
        out: OutFile,
    },
    /// VerifyMac.
    VerifyMac {
        #[command(flatten)]
        key: AnyKeyIdArg,
        #[arg(long)]
        message: String,
        #[arg(long)]
        mac_algorithm: MacAlgorithm,
        /// `fileb://path` or base64.
        #[arg(long)]
        mac: String,
        #[command(flatten)]
        tokens: GrantTokens,
    },
    /// GenerateDataKeyPair.
    GenerateDataKeyPair(DataKeyPairArgs),
    /// GenerateDataKeyPairWithoutPlaintext.
    GenerateDataKeyPairWithoutPlaintext(DataKeyPairArgs),
    /// GetParametersForImport (key with Origin EXTERNAL).
    GetParametersForImport {
        #[command(flatten)]
        key: KeyIdArg,
        #[arg(long)]
        wrapping_algorithm: WrappingAlgorithm,
        #[arg(long)]
        wrapping_key_spec: WrappingKeySpec,
        /// Write the wrapping public key (DER, or PEM with --pem) to this file.
        #[arg(long)]
        public_key_outfile: Option<PathBuf>,
        /// Write --public-key-outfile as PEM.
        #[arg(long, requires = "public_key_outfile")]
        pem: bool,
        /// Write the raw import token to this file.
        #[arg(long)]
        import_token_outfile: Option<PathBuf>,
    },
    /// ImportKeyMaterial.
    ImportKeyMaterial {
        #[command(flatten)]
        key: KeyIdArg,
        /// `fileb://path` or base64.
        #[arg(long)]
        encrypted_key_material: String,
        /// `fileb://path` or base64.
        #[arg(long)]
        import_token: String,
        /// Unix seconds or RFC 3339 UTC (`2027-01-31T00:00:00Z`).
        #[arg(long)]
        valid_to: Option<String>,
        #[arg(long)]
        expiration_model: Option<ExpirationModel>,
        /// `NEW_KEY_MATERIAL` (only on a key's first import) or
        /// `EXISTING_KEY_MATERIAL` (only once material was imported: the
        /// same material again); omitted, either as the key requires.
        #[arg(long)]
        import_type: Option<ImportType>,
    },
    /// DeleteImportedKeyMaterial.
    DeleteImportedKeyMaterial(KeyIdArg),
    /// Envelope-encrypt a file or stream (AWS Encryption SDK message format)
    /// to `-o FILE` or `-o -` (stdout).
    EncryptFile(envelope_cmd::EncryptFileArgs),
    /// Decrypt an AWS Encryption SDK message to `-o FILE` (written only once
    /// fully authenticated) or `-o -`; or `--show-header`.
    DecryptFile(envelope_cmd::DecryptFileArgs),
    /// GenerateRandom.
    #[command(mut_arg("outfile", |a| a.help(outfile_help("Plaintext (the random bytes)", true))))]
    GenerateRandom {
        /// 1-1024.
        #[arg(long)]
        number_of_bytes: u32,
        #[command(flatten)]
        out: OutFile,
    },
    /// PutKeyPolicy.
    PutKeyPolicy {
        #[command(flatten)]
        key: KeyIdArg,
        /// Only `default`.
        #[arg(long)]
        policy_name: Option<String>,
        /// `file://path` or the JSON document.
        #[arg(long)]
        policy: String,
        #[arg(long)]
        bypass_policy_lockout_safety_check: bool,
    },
    /// GetKeyPolicy.
    GetKeyPolicy {
        #[command(flatten)]
        key: KeyIdArg,
        /// Only `default`.
        #[arg(long)]
        policy_name: Option<String>,
    },
    /// ListKeyPolicies.
    ListKeyPolicies {
        #[command(flatten)]
        key: KeyIdArg,
        #[command(flatten)]
        paging: Paging,
    },
    /// CreateGrant.
    CreateGrant {
        #[command(flatten)]
        key: KeyIdArg,
        #[arg(long)]
        grantee_principal: String,
        #[arg(long)]
        retiring_principal: Option<String>,
        /// Operations, space- or comma-separated (`Encrypt Decrypt`).
        #[arg(long, num_args = 1.., required = true)]
        operations: Vec<String>,
        /// `EncryptionContextEquals={k=v,...}` and/or `EncryptionContextSubset={k=v,...}`, or JSON.
        #[arg(long)]
        constraints: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        tokens: GrantTokens,
    },
    /// ListGrants.
    ListGrants {
        #[command(flatten)]
        key: KeyIdArg,
        #[arg(long)]
        grant_id: Option<String>,
        #[arg(long)]
        grantee_principal: Option<String>,
        #[command(flatten)]
        paging: Paging,
    },
    /// ListRetirableGrants.
    ListRetirableGrants {
        #[arg(long)]
        retiring_principal: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// RetireGrant: by `--grant-token`, or by `--key-id` and `--grant-id`.
    RetireGrant {
        /// The grant's token (CreateGrant's GrantToken).
        #[arg(long)]
        grant_token: Option<String>,
        /// Key ID or key ARN of the grant's key, with --grant-id (an alias
        /// is NotFoundException, as in KMS).
        #[arg(long)]
        key_id: Option<String>,
        /// The grant's ID, with --key-id.
        #[arg(long)]
        grant_id: Option<String>,
    },
    /// RevokeGrant.
    RevokeGrant {
        #[command(flatten)]
        key: KeyIdArg,
        #[arg(long)]
        grant_id: String,
    },
    /// The audit log: show events, verify the chain, rotate it into archives.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The keystore's anchor (--anchor): show its status, remove it.
    #[command(subcommand)]
    Anchor(AnchorCommand),
}

#[derive(Subcommand, Debug)]
enum AnchorCommand {
    /// Whether the keystore is anchored and, with --anchor, whether the
    /// anchor is behind it (JSON: `Anchored`, `Anchor`, `KeystoreCounter`,
    /// `AnchorCounter`, `AnchorBehind`). Read only: checks the keystore
    /// (and the anchor) as an open does, but anchors nothing, appends no
    /// audit event and moves no anchor (`--anchor-init` creates none; an
    /// anchored keystore's missing anchor fails, KMSInternalException).
    Status,
    /// Remove the keystore's anchoring (needs --anchor, checked first;
    /// audited as `RemoveKeystoreAnchor`): the keystore then opens without
    /// an anchor, and a rollback of its file is no longer detected. The
    /// anchor file is left in place; opening with --anchor again anchors the
    /// keystore again.
    Remove,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Show events, oldest first (`--output json` for the records, `text` for
    /// a table), one per operation: the intent record of a change (member
    /// `strongroomIntent`) only while its outcome record is missing. The
    /// global `--principal` filters by caller here.
    Show {
        /// Key ID or key ARN (not an alias: records name keys by ID and
        /// ARN; an alias is refused with ValidationException).
        #[arg(long)]
        key_id: Option<String>,
        /// KMS operation, e.g. `Encrypt`.
        #[arg(long)]
        event_name: Option<String>,
        /// RFC 3339 UTC (`2024-01-01T00:00:00Z`) or a prefix of it cut at a
        /// field (`2024-01-01`, `2024-01-01T10`); anything else is a
        /// ValidationException.
        #[arg(long)]
        start_time: Option<String>,
        /// As --start-time; inclusive (a date prefix includes that whole
        /// day). Before --start-time (no event can match) it is a
        /// ValidationException.
        #[arg(long)]
        end_time: Option<String>,
    },
    /// Verify the chain and the sealed checkpoint; exit 1 at the first bad record.
    /// `Records` counts intent records too (over every record the log ever
    /// held, archives included); `FirstRecord` is the number of the current
    /// file's first record (after a rotation, its `RotateAuditLog` record);
    /// `OutcomeUnknown` lists the `eventID`s of intents a crash left
    /// without their outcome record. Writes nothing (no anchoring, no audit
    /// event, no flush): it works on a keystore and log the process cannot
    /// write.
    Verify {
        /// Archives made by `audit rotate`, oldest first (any contiguous run
        /// of them up to the current log): each must verify and match the
        /// rotation record of the file after it (length, SHA-256, record
        /// range, chain value); a modified, truncated, missing or misordered
        /// archive is reported (`ArchiveFault`) and exits 1.
        #[arg(long = "archive", num_args = 1.., value_name = "FILE")]
        archives: Vec<PathBuf>,
    },
    /// Move the audit log's records to an archive beside it
    /// (`<keystore>.audit.<first>-<last>.jsonl`, 20-digit record numbers,
    /// mode 0400) and start a new log whose first record, `RotateAuditLog`,
    /// names the archive with its record range, length and SHA-256. Prints
    /// `Archive`, `FirstRecord`, `LastRecord`, `Bytes`, `Sha256`. The
    /// archive may then be moved elsewhere; `audit verify --archive` checks
    /// it later. KMSInvalidStateException for a log without records.
    Rotate,
}

#[derive(Args, Debug)]
struct GrantTokens {
    /// Grant tokens (at most 10).
    #[arg(long, num_args = 1..)]
    grant_tokens: Vec<String>,
}

#[derive(Args, Debug)]
struct DataKeyArgs {
    #[command(flatten)]
    key: AnyKeyIdArg,
    #[arg(long)]
    key_spec: Option<DataKeySpec>,
    #[arg(long)]
    number_of_bytes: Option<u32>,
    #[arg(long)]
    encryption_context: Option<String>,
    #[command(flatten)]
    tokens: GrantTokens,
    #[command(flatten)]
    out: OutFile,
    /// Also write the encrypted data key (CiphertextBlob) raw to this file.
    #[arg(long)]
    ciphertext_outfile: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct DataKeyPairArgs {
    #[command(flatten)]
    key: AnyKeyIdArg,
    #[arg(long)]
    key_pair_spec: DataKeyPairSpec,
    #[arg(long)]
    encryption_context: Option<String>,
    #[command(flatten)]
    tokens: GrantTokens,
    /// Write the public key (DER SubjectPublicKeyInfo) to this file.
    #[arg(long)]
    public_key_outfile: Option<PathBuf>,
    /// Write PrivateKeyCiphertextBlob raw to this file.
    #[arg(long)]
    ciphertext_outfile: Option<PathBuf>,
    /// generate-data-key-pair only: write the PKCS#8 DER private key to this file.
    #[arg(long)]
    private_key_outfile: Option<PathBuf>,
}

fn default_key_file(keystore: &Path) -> PathBuf {
    own_files::default_root_key_file(keystore)
}

/// The root key source, first match wins: `--passphrase-env`,
/// `--root-key-env`, `--root-key-file` given on the command line, the
/// `STRONGROOM_ROOT_KEY` variable, `STRONGROOM_ROOT_KEY_FILE`, the default
/// key file. Explicit flags beat environment variables.
///
/// # Errors
/// `ValidationException` for `--passphrase-env` together with
/// `--root-key-env` or `--root-key-file` given on the command line (two
/// sources named: neither silently wins), or an unset or empty passphrase
/// variable.
fn root_source(cli: &Cli) -> Result<RootKeySource, Error> {
    if let Some(var) = &cli.passphrase_env {
        let other = if cli.root_key_env.is_some() {
            Some("--root-key-env")
        } else if cli.root_key_file.is_some() && cli.root_key_file_on_command_line {
            Some("--root-key-file")
        } else {
            None
        };
        if let Some(other) = other {
            return Err(Error::validation(format!(
                "--passphrase-env and {other} were both given: a keystore's root key comes from \
                 a passphrase or a root key, not both; give one of them"
            )));
        }
        let unset = || {
            Error::validation(format!(
                "environment variable {var} (--passphrase-env) is not set"
            ))
        };
        let value = std::env::var_os(var).ok_or_else(unset)?;
        // The passphrase is the variable's bytes, whatever they are (as the
        // bindings take bytes), so one that is not UTF-8 works too.
        #[cfg(unix)]
        let p = zeroize::Zeroizing::new(std::os::unix::ffi::OsStringExt::into_vec(value));
        #[cfg(not(unix))]
        let p = zeroize::Zeroizing::new(
            value
                .into_string()
                .map_err(|_| {
                    Error::validation(format!(
                        "environment variable {var} (--passphrase-env) is not Unicode"
                    ))
                })?
                .into_bytes(),
        );
        if p.is_empty() {
            return Err(Error::validation(format!(
                "environment variable {var} (--passphrase-env) holds an empty passphrase"
            )));
        }
        return Ok(RootKeySource::Passphrase(Secret::from_slice(&p)));
    }
    if let Some(var) = &cli.root_key_env {
        return Ok(RootKeySource::EnvVar(var.clone()));
    }
    if let (Some(f), true) = (&cli.root_key_file, cli.root_key_file_on_command_line) {
        return Ok(RootKeySource::File(f.clone()));
    }
    if std::env::var_os("STRONGROOM_ROOT_KEY").is_some() {
        return Ok(RootKeySource::EnvVar("STRONGROOM_ROOT_KEY".into()));
    }
    Ok(RootKeySource::File(root_key_file(cli)))
}

/// The anchor `--anchor` / `STRONGROOM_ANCHOR` names, if any.
fn anchor(cli: &Cli) -> Option<strongroom::Anchor> {
    cli.anchor.as_ref().map(|p| {
        strongroom::Anchor::file(p)
            .initialize_if_missing(cli.anchor_init)
            .reinitialize(cli.anchor_reinit)
    })
}

/// The options every command opens the keystore with.
fn open_options(cli: &Cli) -> strongroom::OpenOptions {
    // The open's own anchoring events act as --principal too.
    let mut options = strongroom::OpenOptions::default();
    if let Some(p) = &cli.principal {
        options = options.principal(p);
    }
    if let Some(b) = cli.audit_rotate_bytes {
        options = options.audit_rotate_bytes(b);
    }
    match anchor(cli) {
        Some(a) => options.anchor(a),
        None if cli.no_anchor => options.without_anchor(),
        None => options,
    }
}

/// The root key file `--root-key-file` / `STRONGROOM_ROOT_KEY_FILE` names,
/// or the default one beside the keystore.
fn root_key_file(cli: &Cli) -> PathBuf {
    cli.root_key_file
        .clone()
        .unwrap_or_else(|| default_key_file(&cli.keystore))
}

/// A `CiphertextBlob` argument: as [`parse_blob`], 1-6144 bytes as KMS
/// requires (`ValidationException` otherwise, not InvalidCiphertextException).
fn parse_ciphertext_blob(s: &str) -> Result<Vec<u8>, Error> {
    let blob = parse_blob(s)?;
    if !(1..=6144).contains(&blob.len()) {
        return Err(Error::validation(format!(
            "CiphertextBlob must be 1-6144 bytes, not {}",
            blob.len()
        )));
    }
    Ok(blob)
}

fn opt_ctx(s: &Option<String>) -> Result<EncryptionContext, Error> {
    s.as_deref()
        .map(parse_context)
        .transpose()
        .map(Option::unwrap_or_default)
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    cli.root_key_file_on_command_line =
        matches.value_source("root_key_file") == Some(ValueSource::CommandLine);
    cli.format = output_format(&cli).unwrap_or_else(|e| e.exit());
    catch_file_size_limit();
    match run(&cli) {
        // The reader of stdout went away: quiet, as a process killed by SIGPIPE.
        Ok(()) if output::broken_pipe() => ExitCode::from(141),
        Ok(()) => ExitCode::SUCCESS,
        // The operation succeeded (and any change it made is committed):
        // say so, so that it is not retried as failed.
        Err(e) if output::output_failed() => {
            let _ = writeln!(
                std::io::stderr(),
                "The {} operation succeeded, but its output was not written: {}",
                operation_name(&cli.command),
                e.message()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            // Not `eprintln!`, which panics when stderr is closed or full:
            // the exit status (1) still tells the failure.
            let _ = writeln!(
                std::io::stderr(),
                "An error occurred ({}) when calling the {} operation: {}",
                e.code(),
                operation_name(&cli.command),
                e.message()
            );
            ExitCode::from(1)
        }
    }
}

/// `e`, an error of opening the keystore at `--keystore`, or, when no
/// `--passphrase-env` was given and that keystore is protected by a
/// passphrase (it records so: [`Keystore::is_passphrase_protected`]), the
/// error saying how to open it, whatever root key (file or variable) was
/// tried instead: such a keystore opens only with its passphrase. Applied
/// at each open, so that a command that opens no keystore (`encrypt-file`
/// with a raw AES key only) never gets it.
fn passphrase_hint(cli: &Cli, e: Error) -> Error {
    if cli.passphrase_env.is_some()
        || !Keystore::is_passphrase_protected(&cli.keystore).unwrap_or(false)
    {
        return e;
    }
    Error::new(
        strongroom::ErrorKind::ValidationException,
        format!(
            "the keystore {} is protected by a passphrase (made with `init --passphrase-env`): \
             pass --passphrase-env VAR, with its passphrase in the environment variable VAR",
            cli.keystore.display()
        ),
    )
}

/// What the audit records of a command that reaches the final audit flush
/// of [`run`] say it did, for the warning when that flush fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AuditEffect {
    /// Read only: its one event is of an operation the log batches
    /// ([`strongroom::core::audit::is_read_only`], as the log decides).
    ReadOnly,
    /// A change: its event is written durably with an intent before it.
    Changes,
    /// `serve`: the requests it served, of both kinds.
    Mixed,
}

/// The [`AuditEffect`] of `c`: decided by the function the audit log itself
/// uses ([`strongroom::core::audit::is_read_only`]) on the KMS operation
/// the command runs ([`operation_name`], the event name the log records),
/// except for the two commands that run none: `serve` and `export-keystore`
/// (which reads the keystore and records no event).
fn audit_effect(c: &Command) -> AuditEffect {
    match c {
        Command::Serve(_) => AuditEffect::Mixed,
        Command::ExportKeystore { .. } => AuditEffect::ReadOnly,
        c if strongroom::core::audit::is_read_only(&operation_name(c)) => AuditEffect::ReadOnly,
        _ => AuditEffect::Changes,
    }
}

/// The name of the operation `c` runs: for the KMS operations, the KMS name
/// (the variant's name), which is the event name the audit log records.
fn operation_name(c: &Command) -> String {
    match c {
        Command::Anchor(AnchorCommand::Status) => return "AnchorStatus".into(),
        Command::Anchor(AnchorCommand::Remove) => return "RemoveKeystoreAnchor".into(),
        _ => {}
    }
    let dbg = format!("{c:?}");
    let name: String = dbg.chars().take_while(|c| c.is_alphanumeric()).collect();
    name
}

/// Writes a non-secret output (`--outfile` of a blob, signature, MAC,
/// public key, import token): `-` for raw bytes on stdout, else a file
/// created with the umask's mode.
fn write_raw(path: &Option<PathBuf>, bytes: &[u8]) -> Result<(), Error> {
    write_output(path, bytes, false)
}

/// Writes a secret output (a plaintext, data key, private key, shared
/// secret or random bytes): as [`write_raw`], the file created with mode
/// 0600.
fn write_secret(path: &Option<PathBuf>, bytes: &[u8]) -> Result<(), Error> {
    write_output(path, bytes, true)
}

fn write_output(path: &Option<PathBuf>, bytes: &[u8], secret: bool) -> Result<(), Error> {
    match path {
        None => Ok(()),
        Some(p) if is_stdout(p) => output::write_raw_stdout(bytes),
        Some(p) => write_file_atomic(p, bytes, secret).map_err(output::not_written),
    }
}

/// Whether an output path means standard output: `-`, or a path naming it
/// through links in `/proc` (`/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`),
/// written to as `-` is (the bytes alone, no JSON after them).
fn is_stdout(p: &Path) -> bool {
    p.as_os_str() == "-" || strongroom::files::names_stdout(p)
}

/// Writes `bytes` to a new file beside `path` (mode 0600 when `secret`,
/// else 0666 less the umask), syncs it and renames it over `path`: a
/// failure leaves `path` as it was, never a truncated file. A symbolic link
/// is followed (the file it names is rewritten in place once `bytes` are
/// ready, the link kept); an existing
/// `path` that is not a regular file (a FIFO, a device, `/dev/fd/N`) is
/// written into ([`strongroom::files::open_output`]).
fn write_file_atomic(path: &Path, bytes: &[u8], secret: bool) -> Result<(), Error> {
    let err = |e: std::io::Error| Error::internal(format!("cannot write {}: {e}", path.display()));
    let path = match strongroom::files::open_output(path)? {
        strongroom::files::Output::Replace(p) => p,
        strongroom::files::Output::WriteInto(mut f) => {
            return f.put(&mut &bytes[..], bytes.len() as u64).map_err(err)
        }
    };
    let path = path.as_path();
    let name = path
        .file_name()
        .ok_or_else(|| Error::validation(format!("{} is not a file name", path.display())))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".strongroom-{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if secret { 0o600 } else { 0o666 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(&tmp).map_err(err)?;
    let written = f
        .write_all(bytes)
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The files of the keystore ([`strongroom::own_files::files_of`]): the
/// keystore itself, SQLite's sidecars, its change-signal file, its audit
/// log and the next one a rotation writes (`<log>.rotating`, and beside
/// the file a log that is a symbolic link names), its root key
/// file (the one in use and the default one) and its anchor file
/// (`--anchor`).
fn keystore_files(cli: &Cli) -> Vec<(PathBuf, &'static str)> {
    own_files::files_of(
        &cli.keystore,
        Some(&root_key_file(cli)),
        cli.anchor.as_deref(),
    )
}

/// Checks the command's output files before anything runs: none may be a
/// file of the keystore (which writing would destroy), and at most one may
/// be `-` (stdout).
///
/// # Errors
/// `ValidationException` naming the clash.
fn check_outputs(cli: &Cli) -> Result<(), Error> {
    let mut outputs = output_files(&cli.command);
    let envelope_out;
    let input = match &cli.command {
        Command::EncryptFile(a) => Some(a.input.as_str()),
        Command::DecryptFile(a) => Some(a.input.as_str()),
        _ => None,
    };
    if let (Some(input), Some(o)) = (input, &cli.output) {
        envelope_out = PathBuf::from(o);
        // `-i -`: what stdin is (`/dev/stdin` names it), so that
        // `-i - -o /dev/stdin < f` is refused too (it appended to `f`).
        // A character device (`/dev/null`, a terminal) on both sides is
        // not one file read and replaced.
        let input_path = Path::new(if input == "-" { "/dev/stdin" } else { input });
        if !is_stdout(&envelope_out)
            && !is_char_device(&envelope_out)
            && same_file(input_path, &envelope_out)
        {
            return Err(Error::validation(format!(
                "-i {input} and -o {o} are the same file: the output would replace its own input"
            )));
        }
        outputs.push((envelope_out.as_path(), "-o/--output"));
    }
    if outputs.iter().filter(|(p, _)| is_stdout(p)).count() > 1 {
        return Err(Error::validation(
            "only one output can be stdout (- or /dev/stdout): give the others file paths",
        ));
    }
    // Two outputs in one file: the second would replace the first (a data
    // key's plaintext by its blob, a private key by its public key).
    // A character device (`/dev/null`, a terminal) takes any number of
    // writes: outputs discarded together are fine.
    let files_out: Vec<_> = outputs
        .iter()
        .filter(|(p, _)| !is_stdout(p) && !is_char_device(p))
        .collect();
    for (i, (a, flag_a)) in files_out.iter().enumerate() {
        if let Some((b, flag_b)) = files_out[..i].iter().find(|(b, _)| same_file(a, b)) {
            return Err(Error::validation(format!(
                "{flag_b} {} and {flag_a} {} are the same file: give each output its own",
                b.display(),
                a.display()
            )));
        }
    }
    let files = keystore_files(cli);
    if let Some(anchor) = &cli.anchor {
        // The anchor is replaced at every write: it must not be another of
        // the keystore's files.
        let clash = files
            .iter()
            .filter(|(_, what)| *what != own_files::ANCHOR_FILE)
            .find(|(f, _)| same_file(anchor, f));
        if let Some((_, what)) = clash {
            return Err(Error::validation(format!(
                "--anchor {} is {what}: storing the anchor would destroy it; choose another path",
                anchor.display()
            )));
        }
    }
    for (out, flag) in outputs.iter().filter(|(p, _)| !is_stdout(p)) {
        own_files::refuse_keystore_file(out, flag, &files)?;
    }
    Ok(())
}

/// The output files a command writes, with the option naming each.
fn output_files(c: &Command) -> Vec<(&Path, &'static str)> {
    let mut v: Vec<(&Option<PathBuf>, &'static str)> = Vec::new();
    match c {
        Command::ExportKeystore { outfile } => return vec![(outfile.as_path(), "--outfile")],
        Command::Encrypt { out, .. }
        | Command::Decrypt { out, .. }
        | Command::ReEncrypt { out, .. }
        | Command::Sign { out, .. }
        | Command::GetPublicKey { out, .. }
        | Command::DeriveSharedSecret { out, .. }
        | Command::GenerateMac { out, .. }
        | Command::GenerateRandom { out, .. } => v.push((&out.outfile, "--outfile")),
        Command::GenerateDataKey(a) | Command::GenerateDataKeyWithoutPlaintext(a) => {
            v.push((&a.out.outfile, "--outfile"));
            v.push((&a.ciphertext_outfile, "--ciphertext-outfile"));
        }
        Command::GenerateDataKeyPair(a) | Command::GenerateDataKeyPairWithoutPlaintext(a) => {
            v.push((&a.public_key_outfile, "--public-key-outfile"));
            v.push((&a.ciphertext_outfile, "--ciphertext-outfile"));
            v.push((&a.private_key_outfile, "--private-key-outfile"));
        }
        Command::GetParametersForImport {
            public_key_outfile,
            import_token_outfile,
            ..
        } => {
            v.push((public_key_outfile, "--public-key-outfile"));
            v.push((import_token_outfile, "--import-token-outfile"));
        }
        _ => {}
    }
    v.into_iter()
        .filter_map(|(p, flag)| p.as_deref().map(|p| (p, flag)))
        .collect()
}

/// The response format from `--output` (`json` or `text`, in any case);
/// `None` for `encrypt-file` and `decrypt-file`, where `--output` names the
/// output file.
///
/// # Errors
/// A usage error (clap's, exit status 2, as for any other malformed
/// argument) for another value: `--output` cannot be a clap value enum
/// itself, being a file name for those two commands.
fn output_format(cli: &Cli) -> Result<Option<OutputFormat>, clap::Error> {
    if matches!(
        cli.command,
        Command::EncryptFile(_) | Command::DecryptFile(_)
    ) {
        return Ok(None);
    }
    match cli.output.as_deref() {
        None => Ok(Some(OutputFormat::Json)),
        Some(s) => OutputFormat::from_str(s, true).map(Some).map_err(|_| {
            Cli::command().error(
                clap::error::ErrorKind::InvalidValue,
                format!(
                    "invalid value '{s}' for '--output <OUTPUT>'\n  [possible values: json, text] \
                     (a file name only for encrypt-file and decrypt-file)"
                ),
            )
        }),
    }
}

/// The handle the command runs on: acting as `--principal`, with `--dry-run`.
fn acting(cli: &Cli, ks: Keystore) -> Keystore {
    let ks = match &cli.principal {
        Some(p) => ks.as_principal(p),
        None => ks,
    };
    if cli.dry_run {
        ks.dry_run()
    } else {
        ks
    }
}

fn run(cli: &Cli) -> Result<(), Error> {
    if cli.dry_run
        && matches!(
            cli.command,
            Command::Init { .. }
                | Command::ImportKeystore { .. }
                | Command::MigrateKeystore
                | Command::ExportKeystore { .. }
                | Command::Audit(_)
                | Command::Anchor(_)
                | Command::Serve(_)
        )
    {
        return Err(Error::validation(
            "--dry-run applies to the KMS operations that take DryRun, not to this command",
        ));
    }
    if cli.dry_run
        && !matches!(
            cli.command,
            Command::EncryptFile(_) | Command::DecryptFile(_)
        )
    {
        let op = operation_name(&cli.command);
        if !strongroom::DRY_RUN_OPERATIONS.contains(&op.as_str()) {
            return Err(Error::validation(format!(
                "{op} has no DryRun parameter in AWS KMS: run it without --dry-run"
            )));
        }
    }
    check_outputs(cli)?;
    let open = || {
        Keystore::open_with(&cli.keystore, root_source(cli)?, open_options(cli))
            .map_err(|e| passphrase_hint(cli, e))
    };
    // encrypt-file / decrypt-file act as --principal too, like every other command.
    let open_as = || open().map(|ks| acting(cli, ks));
    let ectx = envelope_cmd::Ctx {
        output: cli.output.as_deref(),
        open: &open_as,
    };
    match &cli.command {
        Command::EncryptFile(a) => {
            remove_partial_outputs_on_signals()?;
            return envelope_cmd::encrypt_file(&ectx, a);
        }
        Command::DecryptFile(a) => {
            remove_partial_outputs_on_signals()?;
            return envelope_cmd::decrypt_file(&ectx, a);
        }
        _ => {}
    }
    let format = cli.format.unwrap_or(OutputFormat::Json);
    let print = |v: &dyn erased::Value| output::print(format, &v.json());
    // A secret written to a file is left out of the JSON response.
    let print_without = |v: &dyn erased::Value, field: &str, written: &Option<PathBuf>| {
        let mut j = v.json();
        if let (Some(m), Some(_)) = (j.as_object_mut(), written) {
            m.remove(field);
        }
        output::print(format, &j)
    };
    if let Command::Init {
        region,
        account,
        admin_principal,
    } = &cli.command
    {
        return init(cli, region, account, admin_principal.clone(), format);
    }
    if let Command::ImportKeystore { infile } = &cli.command {
        // The imported keystore's anchor starts from the imported state; an
        // existing one (the original's, whose keystore ID the import keeps)
        // is not taken over.
        // `symlink_metadata`: a link, even a dangling one, is there too.
        if let Some(a) = cli
            .anchor
            .as_ref()
            .filter(|a| std::fs::symlink_metadata(a).is_ok())
        {
            return Err(Error::new(
                strongroom::ErrorKind::AlreadyExistsException,
                format!(
                    "--anchor {} exists: the imported keystore starts a new anchor; move the \
                     old one aside first",
                    a.display()
                ),
            ));
        }
        let bytes = input::read_export(infile)?;
        Keystore::import_sealed_with(&cli.keystore, &bytes, root_source(cli)?, open_options(cli))?;
        return Ok(());
    }
    if let Command::MigrateKeystore = &cli.command {
        let options = open_options(cli).migrate_old_format(true);
        Keystore::open_with(&cli.keystore, root_source(cli)?, options)
            .map_err(|e| passphrase_hint(cli, e))?;
        return Ok(());
    }
    if let Command::Anchor(AnchorCommand::Status) = &cli.command {
        // Read only: no anchoring, no audit event, the anchor not moved.
        let status = Keystore::inspect_anchor(&cli.keystore, root_source(cli)?, open_options(cli))
            .map_err(|e| passphrase_hint(cli, e))?;
        return anchor_status(cli, format, &status);
    }
    if let Command::Audit(AuditCommand::Verify { archives }) = &cli.command {
        // Read only: nothing is written, so a keystore and log this process
        // cannot write (a read-only file system or files) verify too.
        let v = Keystore::verify_audit_log_read_only_with_archives(
            &cli.keystore,
            root_source(cli)?,
            open_options(cli),
            archives,
        )
        .map_err(|e| passphrase_hint(cli, e))?;
        return audit_verification(format, v);
    }
    let ks = open()?;
    if let Command::Audit(a) = &cli.command {
        return audit(cli, format, &ks, a);
    }
    if let Command::Anchor(a) = &cli.command {
        return anchor_command(cli, format, &ks, a);
    }
    let ks = acting(cli, ks);
    let result = match &cli.command {
        Command::Init { .. }
        | Command::ImportKeystore { .. }
        | Command::MigrateKeystore
        | Command::EncryptFile(_)
        | Command::DecryptFile(_) => unreachable_init(),
        Command::ExportKeystore { outfile } => {
            write_secret(&Some(outfile.clone()), &ks.export_sealed()?)
        }
        Command::Serve(args) => strongroom_server::cli::serve(ks.clone(), args),
        Command::CreateKey {
            description,
            key_spec,
            key_usage,
            origin,
            tags,
            policy,
            bypass_policy_lockout_safety_check,
        } => {
            let req = CreateKeyRequest {
                description: description.clone(),
                key_spec: *key_spec,
                key_usage: *key_usage,
                origin: *origin,
                tags: parse_tags(tags)?,
                policy: policy.as_deref().map(parse_text).transpose()?,
                bypass_policy_lockout_safety_check: *bypass_policy_lockout_safety_check,
                ..Default::default()
            };
            print(&ks.create_key(&req)?)
        }
        Command::DescribeKey { key, tokens } => {
            print(&ks.describe_key_with_grant_tokens(&key.key_id, &tokens.grant_tokens)?)
        }
        Command::ListKeys(p) => print(&ks.list_keys(p.limit, p.marker.as_deref())?),
        Command::UpdateKeyDescription { key, description } => {
            ks.update_key_description(&key.key_id, description)
        }
        Command::EnableKey(k) => ks.enable_key(&k.key_id),
        Command::DisableKey(k) => ks.disable_key(&k.key_id),
        Command::ScheduleKeyDeletion {
            key,
            pending_window_in_days,
        } => print(&ks.schedule_key_deletion(&key.key_id, *pending_window_in_days)?),
        Command::CancelKeyDeletion(k) => print(&ks.cancel_key_deletion(&k.key_id)?),
        Command::EnableKeyRotation {
            key,
            rotation_period_in_days,
        } => ks.enable_key_rotation(&key.key_id, *rotation_period_in_days),
        Command::DisableKeyRotation(k) => ks.disable_key_rotation(&k.key_id),
        Command::GetKeyRotationStatus(k) => print(&ks.get_key_rotation_status(&k.key_id)?),
        Command::RotateKeyOnDemand(k) => print(&ks.rotate_key_on_demand(&k.key_id)?),
        Command::ListKeyRotations { key, paging } => {
            print(&ks.list_key_rotations(&key.key_id, paging.limit, paging.marker.as_deref())?)
        }
        Command::CreateAlias {
            alias_name,
            target_key_id,
        } => ks.create_alias(alias_name, target_key_id),
        Command::UpdateAlias {
            alias_name,
            target_key_id,
        } => ks.update_alias(alias_name, target_key_id),
        Command::DeleteAlias { alias_name } => ks.delete_alias(alias_name),
        Command::ListAliases { key_id, paging } => {
            print(&ks.list_aliases(key_id.as_deref(), paging.limit, paging.marker.as_deref())?)
        }
        Command::TagResource { key, tags } => ks.tag_resource(&key.key_id, &parse_tags(tags)?),
        Command::UntagResource { key, tag_keys } => ks.untag_resource(&key.key_id, tag_keys),
        Command::ListResourceTags { key, paging } => {
            print(&ks.list_resource_tags(&key.key_id, paging.limit, paging.marker.as_deref())?)
        }
        Command::Encrypt {
            key,
            plaintext,
            encryption_context,
            encryption_algorithm,
            tokens,
            out,
        } => {
            let r = ks.encrypt(&EncryptRequest {
                key_id: key.key_id.clone(),
                plaintext: Secret::new(parse_blob(plaintext)?),
                encryption_context: opt_ctx(encryption_context)?,
                encryption_algorithm: *encryption_algorithm,
                grant_tokens: tokens.grant_tokens.clone(),
            })?;
            write_raw(&out.outfile, &r.ciphertext_blob)?;
            print(&r)
        }
        Command::Decrypt {
            ciphertext_blob,
            encryption_context,
            key_id,
            encryption_algorithm,
            tokens,
            out,
        } => {
            let r = ks.decrypt(&DecryptRequest {
                ciphertext_blob: parse_ciphertext_blob(ciphertext_blob)?,
                encryption_context: opt_ctx(encryption_context)?,
                key_id: key_id.clone(),
                encryption_algorithm: *encryption_algorithm,
                grant_tokens: tokens.grant_tokens.clone(),
            })?;
            write_secret(&out.outfile, r.plaintext.expose_secret())?;
            print_without(&r, "Plaintext", &out.outfile)
        }
        Command::ReEncrypt {
            ciphertext_blob,
            source_encryption_context,
            source_key_id,
            destination_key_id,
            destination_encryption_context,
            tokens,
            source_encryption_algorithm,
            destination_encryption_algorithm,
            out,
        } => {
            let r = ks.re_encrypt(&ReEncryptRequest {
                ciphertext_blob: parse_ciphertext_blob(ciphertext_blob)?,
                source_encryption_context: opt_ctx(source_encryption_context)?,
                source_key_id: source_key_id.clone(),
                destination_key_id: destination_key_id.clone(),
                destination_encryption_context: opt_ctx(destination_encryption_context)?,
                source_encryption_algorithm: *source_encryption_algorithm,
                destination_encryption_algorithm: *destination_encryption_algorithm,
                grant_tokens: tokens.grant_tokens.clone(),
            })?;
            write_raw(&out.outfile, &r.ciphertext_blob)?;
            print(&r)
        }
        Command::GenerateDataKey(a) => {
            let r = ks.generate_data_key(&data_key_request(a)?)?;
            // The wrapped copy first: a failure never leaves a plaintext
            // data key on disk without it.
            write_raw(&a.ciphertext_outfile, &r.ciphertext_blob)?;
            write_secret(&a.out.outfile, r.plaintext.expose_secret())?;
            print_without(&r, "Plaintext", &a.out.outfile)
        }
        Command::GenerateDataKeyWithoutPlaintext(a) => {
            let r = ks.generate_data_key_without_plaintext(&data_key_request(a)?)?;
            write_raw(&a.out.outfile, &r.ciphertext_blob)?;
            write_raw(&a.ciphertext_outfile, &r.ciphertext_blob)?;
            print(&r)
        }
        Command::Sign {
            key,
            message,
            message_type,
            signing_algorithm,
            tokens,
            out,
        } => {
            let r = ks.sign(&SignRequest {
                key_id: key.key_id.clone(),
                message: Secret::new(parse_blob(message)?),
                message_type: *message_type,
                signing_algorithm: Some(*signing_algorithm),
                grant_tokens: tokens.grant_tokens.clone(),
            })?;
            write_raw(&out.outfile, &r.signature)?;
            print(&r)
        }
        Command::Verify {
            key,
            message,
            message_type,
            signature,
            signing_algorithm,
            tokens,
        } => print(&ks.verify(&VerifyRequest {
            key_id: key.key_id.clone(),
            message: Secret::new(parse_blob(message)?),
            message_type: *message_type,
            signature: parse_blob(signature)?,
            signing_algorithm: Some(*signing_algorithm),
            grant_tokens: tokens.grant_tokens.clone(),
        })?),
        Command::GetPublicKey {
            key,
            tokens,
            out,
            pem,
        } => {
            let r = ks.get_public_key_with_grant_tokens(&key.key_id, &tokens.grant_tokens)?;
            write_public_key(&out.outfile, &r.public_key, *pem)?;
            print(&r)
        }
        Command::DeriveSharedSecret {
            key,
            key_agreement_algorithm,
            public_key,
            recipient,
            tokens,
            out,
        } => {
            let r = ks.derive_shared_secret(&DeriveSharedSecretRequest {
                key_id: key.key_id.clone(),
                key_agreement_algorithm: Some(*key_agreement_algorithm),
                public_key: parse_blob(public_key)?,
                grant_tokens: tokens.grant_tokens.clone(),
                recipient: recipient.as_ref().map(|_| RecipientInfo::default()),
            })?;
            write_secret(&out.outfile, r.shared_secret.expose_secret())?;
            print_without(&r, "SharedSecret", &out.outfile)
        }
        Command::GenerateMac {
            key,
            message,
            mac_algorithm,
            tokens,
            out,
        } => {
            let r = ks.generate_mac(&GenerateMacRequest {
                key_id: key.key_id.clone(),
                message: Secret::new(parse_blob(message)?),
                mac_algorithm: Some(*mac_algorithm),
                grant_tokens: tokens.grant_tokens.clone(),
            })?;
            write_raw(&out.outfile, &r.mac)?;
            print(&r)
        }
        Command::VerifyMac {
            key,
            message,
            mac_algorithm,
            mac,
            tokens,
        } => print(&ks.verify_mac(&VerifyMacRequest {
            key_id: key.key_id.clone(),
            message: Secret::new(parse_blob(message)?),
            mac_algorithm: Some(*mac_algorithm),
            mac: parse_blob(mac)?,
            grant_tokens: tokens.grant_tokens.clone(),
        })?),
        Command::GenerateDataKeyPair(a) => {
            let r = ks.generate_data_key_pair(&data_key_pair_request(a)?)?;
            write_raw(&a.public_key_outfile, &r.public_key)?;
            write_raw(&a.ciphertext_outfile, &r.private_key_ciphertext_blob)?;
            write_secret(
                &a.private_key_outfile,
                r.private_key_plaintext.expose_secret(),
            )?;
            print_without(&r, "PrivateKeyPlaintext", &a.private_key_outfile)
        }
        Command::GenerateDataKeyPairWithoutPlaintext(a) => {
            if a.private_key_outfile.is_some() {
                return Err(Error::validation(
                    "--private-key-outfile is only for generate-data-key-pair",
                ));
            }
            let r = ks.generate_data_key_pair_without_plaintext(&data_key_pair_request(a)?)?;
            write_raw(&a.public_key_outfile, &r.public_key)?;
            write_raw(&a.ciphertext_outfile, &r.private_key_ciphertext_blob)?;
            print(&r)
        }
        Command::GetParametersForImport {
            key,
            wrapping_algorithm,
            wrapping_key_spec,
            public_key_outfile,
            pem,
            import_token_outfile,
        } => {
            let r = ks.get_parameters_for_import(&GetParametersForImportRequest {
                key_id: key.key_id.clone(),
                wrapping_algorithm: Some(*wrapping_algorithm),
                wrapping_key_spec: Some(*wrapping_key_spec),
            })?;
            write_public_key(public_key_outfile, &r.public_key, *pem)?;
            write_raw(import_token_outfile, &r.import_token)?;
            print(&r)
        }
        Command::ImportKeyMaterial {
            key,
            encrypted_key_material,
            import_token,
            valid_to,
            expiration_model,
            import_type,
        } => ks.import_key_material(&ImportKeyMaterialRequest {
            key_id: key.key_id.clone(),
            import_token: parse_blob(import_token)?,
            encrypted_key_material: parse_blob(encrypted_key_material)?,
            valid_to: valid_to.as_deref().map(input::parse_time).transpose()?,
            expiration_model: *expiration_model,
            import_type: *import_type,
        }),
        Command::DeleteImportedKeyMaterial(k) => ks.delete_imported_key_material(&k.key_id),
        Command::GenerateRandom {
            number_of_bytes,
            out,
        } => {
            let r = ks.generate_random(*number_of_bytes)?;
            write_secret(&out.outfile, r.plaintext.expose_secret())?;
            print_without(&r, "Plaintext", &out.outfile)
        }
        Command::PutKeyPolicy {
            key,
            policy_name,
            policy,
            bypass_policy_lockout_safety_check,
        } => ks.put_key_policy(&PutKeyPolicyRequest {
            key_id: key.key_id.clone(),
            policy_name: policy_name.clone(),
            policy: parse_text(policy)?,
            bypass_policy_lockout_safety_check: *bypass_policy_lockout_safety_check,
        }),
        Command::GetKeyPolicy { key, policy_name } => {
            print(&ks.get_key_policy(&key.key_id, policy_name.as_deref())?)
        }
        Command::ListKeyPolicies { key, paging } => {
            print(&ks.list_key_policies(&key.key_id, paging.limit, paging.marker.as_deref())?)
        }
        Command::CreateGrant {
            key,
            grantee_principal,
            retiring_principal,
            operations,
            constraints,
            name,
            tokens,
        } => print(&ks.create_grant(&CreateGrantRequest {
            key_id: key.key_id.clone(),
            grantee_principal: grantee_principal.clone(),
            retiring_principal: retiring_principal.clone(),
            operations: parse_operations(operations)?,
            constraints: constraints.as_deref().map(parse_constraints).transpose()?,
            grant_tokens: tokens.grant_tokens.clone(),
            name: name.clone(),
        })?),
        Command::ListGrants {
            key,
            grant_id,
            grantee_principal,
            paging,
        } => print(&ks.list_grants(&ListGrantsRequest {
            key_id: key.key_id.clone(),
            limit: paging.limit,
            marker: paging.marker.clone(),
            grant_id: grant_id.clone(),
            grantee_principal: grantee_principal.clone(),
        })?),
        Command::ListRetirableGrants {
            retiring_principal,
            paging,
        } => print(&ks.list_retirable_grants(
            retiring_principal,
            paging.limit,
            paging.marker.as_deref(),
        )?),
        Command::RetireGrant {
            grant_token,
            key_id,
            grant_id,
        } => ks.retire_grant(&RetireGrantRequest {
            grant_token: grant_token.clone(),
            key_id: key_id.clone(),
            grant_id: grant_id.clone(),
        }),
        Command::RevokeGrant { key, grant_id } => ks.revoke_grant(&key.key_id, grant_id),
        Command::Audit(_) | Command::Anchor(_) => Err(Error::internal(
            "audit and anchor are handled before the principal is chosen",
        )),
    };
    // A change that committed succeeds even when its audit record or the
    // checkpoint over it could not be stored then (the handle keeps the
    // record to write first): stored now, or said, since the process ends.
    // A read-only command changed nothing: its record is in the log (written
    // before it returned), only the checkpoint over it is missing.
    if result.is_ok() {
        if let Err(e) = ks.flush_audit_log() {
            let what = match audit_effect(&cli.command) {
                AuditEffect::ReadOnly => {
                    "the command succeeded and changed nothing, but the audit log's \
                     checkpoint does not cover its record yet (`strongroom audit verify` \
                     counts it among Records beyond CheckpointRecords)"
                }
                AuditEffect::Changes => {
                    "the command's change stands, but its audit record is not written or \
                     not checkpointed (`strongroom audit verify` lists its intent under \
                     OutcomeUnknown, or Records beyond CheckpointRecords)"
                }
                AuditEffect::Mixed => {
                    "the requests it served stand, but the audit log's checkpoint does not \
                     cover all of their records (`strongroom audit verify` lists a change's \
                     intent under OutcomeUnknown, or counts records among Records beyond \
                     CheckpointRecords)"
                }
            };
            let _ = writeln!(std::io::stderr(), "warning: {}; {what}", e.message());
        }
    }
    result
}

/// `strongroom anchor remove` (`anchor status` is read only, before the
/// keystore is opened for use).
fn anchor_command(
    cli: &Cli,
    format: OutputFormat,
    ks: &Keystore,
    command: &AnchorCommand,
) -> Result<(), Error> {
    match command {
        AnchorCommand::Remove => ks.remove_anchor(),
        AnchorCommand::Status => anchor_status(cli, format, &ks.anchor_status()?),
    }
}

/// Prints `strongroom anchor status`.
fn anchor_status(
    cli: &Cli,
    format: OutputFormat,
    status: &strongroom::AnchorStatus,
) -> Result<(), Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct StatusOut {
        anchored: bool,
        anchor: Option<String>,
        keystore_counter: u64,
        anchor_counter: Option<u64>,
        anchor_behind: Option<bool>,
    }
    output::print(
        format,
        &serde_json::to_value(StatusOut {
            anchored: status.anchored,
            anchor: cli.anchor.as_ref().map(|p| p.display().to_string()),
            keystore_counter: status.keystore_counter,
            anchor_counter: status.anchor_counter,
            anchor_behind: status.anchor_given.then(|| status.anchor_behind()),
        })
        .map_err(|e| Error::internal(e.to_string()))?,
    )
}

fn audit(
    cli: &Cli,
    format: OutputFormat,
    ks: &Keystore,
    command: &AuditCommand,
) -> Result<(), Error> {
    match command {
        AuditCommand::Show {
            key_id,
            event_name,
            start_time,
            end_time,
        } => {
            if let Some(k) = key_id.as_deref().filter(|k| is_alias(k)) {
                return Err(Error::validation(format!(
                    "--key-id {k} is an alias; audit records name keys by key ID and ARN: \
                     give the alias's TargetKeyId (list-aliases)"
                )));
            }
            let events = ks.audit_events(&AuditFilter {
                key_id: key_id.clone(),
                event_name: event_name.clone(),
                principal: cli.principal.clone(),
                start_time: start_time.clone(),
                end_time: end_time.clone(),
            })?;
            match format {
                OutputFormat::Json => output::print(format, &serde_json::Value::Array(events)),
                OutputFormat::Text => output::print_audit_table(&events),
            }
        }
        AuditCommand::Verify { .. } => Err(Error::internal(
            "audit verify is handled before the keystore is opened",
        )),
        AuditCommand::Rotate => {
            let r = ks.rotate_audit_log()?;
            output::print(
                format,
                &serde_json::json!({
                    "Archive": r.archive.display().to_string(),
                    "FirstRecord": r.first_record,
                    "LastRecord": r.last_record,
                    "Bytes": r.bytes,
                    "Sha256": r.sha256,
                }),
            )
        }
    }
}

/// Prints the result of `audit verify`; an error if the log is not intact.
fn audit_verification(format: OutputFormat, v: AuditVerification) -> Result<(), Error> {
    let mut out = serde_json::json!({
        "Intact": v.fault.is_none() && v.archive_fault.is_none(),
        "Records": v.records,
        "CheckpointRecords": v.checkpoint_records,
        "FirstRecord": v.first_record,
        "OutcomeUnknown": v.outcome_unknown,
    });
    if let Some(f) = &v.fault {
        out["FirstBadRecord"] = f.index.into();
        out["Reason"] = f.reason.to_string().into();
    }
    if !v.archives.is_empty() || v.archive_fault.is_some() {
        out["Archives"] = v
            .archives
            .iter()
            .map(|a| {
                serde_json::json!({
                    "File": a.path.display().to_string(),
                    "FirstRecord": a.first_record,
                    "LastRecord": a.last_record,
                    "Bytes": a.bytes,
                    "Sha256": a.sha256,
                })
            })
            .collect();
    }
    if let Some(f) = &v.archive_fault {
        out["ArchiveFault"] = serde_json::json!({
            "File": f.file.display().to_string(),
            "Record": f.record,
            "Reason": f.reason,
        });
    }
    output::print(format, &out)?;
    match (v.fault, v.archive_fault) {
        (None, None) => Ok(()),
        (Some(f), _) => Err(Error::internal(format!("the audit log is not intact: {f}"))),
        (None, Some(f)) => Err(Error::internal(format!(
            "the audit archives are not intact: {f}"
        ))),
    }
}

/// On SIGINT, SIGTERM or SIGHUP, deletes the temporary output file of
/// `encrypt-file` / `decrypt-file` (`.strongroom-XXXXXX.partial`, which
/// holds a prefix of the output) and exits with 128 + the signal number
/// (130, 143, 129). The signal is handled on a thread of its own (not in a
/// signal handler). SIGKILL cannot be caught: it leaves the file behind.
fn remove_partial_outputs_on_signals() -> Result<(), Error> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| Error::internal(format!("cannot handle signals: {e}")))?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            strongroom::envelope::remove_partial_outputs();
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// A write past the file size limit (`ulimit -f`, `RLIMIT_FSIZE`) sends
/// SIGXFSZ, whose default action kills the process mid-write: a
/// `decrypt-file` output's `.partial` file (plaintext) would be left
/// behind, and a change's audit record half written. With the signal
/// caught (a handler that does nothing), the write fails with `EFBIG`
/// instead and the command fails as on a full disk, removing what it
/// staged.
fn catch_file_size_limit() {
    #[cfg(unix)]
    {
        let caught = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Without the handler the limit still kills the process, as before.
        let _ = signal_hook::flag::register(signal_hook::consts::SIGXFSZ, caught);
    }
}

/// Whether a key identifier is an alias name or alias ARN.
fn is_alias(k: &str) -> bool {
    k.starts_with("alias/") || (k.starts_with("arn:") && k.contains(":alias/"))
}

fn unreachable_init() -> Result<(), Error> {
    Err(Error::internal(
        "init, encrypt-file and decrypt-file are handled before the keystore is opened",
    ))
}

fn data_key_request(a: &DataKeyArgs) -> Result<GenerateDataKeyRequest, Error> {
    Ok(GenerateDataKeyRequest {
        key_id: a.key.key_id.clone(),
        key_spec: a.key_spec,
        number_of_bytes: a.number_of_bytes,
        encryption_context: opt_ctx(&a.encryption_context)?,
        grant_tokens: a.tokens.grant_tokens.clone(),
    })
}

fn data_key_pair_request(a: &DataKeyPairArgs) -> Result<GenerateDataKeyPairRequest, Error> {
    Ok(GenerateDataKeyPairRequest {
        key_id: a.key.key_id.clone(),
        key_pair_spec: Some(a.key_pair_spec),
        encryption_context: opt_ctx(&a.encryption_context)?,
        grant_tokens: a.tokens.grant_tokens.clone(),
    })
}

fn write_public_key(path: &Option<PathBuf>, der: &[u8], pem: bool) -> Result<(), Error> {
    if pem {
        write_raw(path, output::pem("PUBLIC KEY", der).as_bytes())
    } else {
        write_raw(path, der)
    }
}

fn init(
    cli: &Cli,
    region: &str,
    account: &str,
    admin_principal: Option<String>,
    format: OutputFormat,
) -> Result<(), Error> {
    let options = CreateOptions {
        region: region.to_string(),
        account: account.to_string(),
        admin_principal,
        anchor: anchor(cli),
        ..CreateOptions::default()
    };
    let source = root_source(cli)?;
    let mut key_file = None;
    if let RootKeySource::File(path) = &source {
        if !path.exists() {
            // A `Secret`: wiped when dropped, on the error paths too.
            let key = strongroom::core::ops::generate_random(&mut strongroom::os_rng(), 32)?;
            // All or nothing: on failure no file is left at `path`.
            strongroom::root::write_new_key_file(path, &key)?;
            key_file = Some(path.clone());
        }
    }
    let result = Keystore::create(&cli.keystore, source, options);
    if let (Err(_), Some(p)) = (&result, &key_file) {
        let _ = std::fs::remove_file(p);
    }
    let ks = result?;
    // The audit log is the keystore's trail: owner-only, as the keystore
    // (created 0600 by the library) and the root key file.
    private_file(&strongroom::audit_log_path(&cli.keystore))?;
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct InitOut {
        keystore: String,
        root_key_file: Option<String>,
        anchor: Option<String>,
        region: String,
        account: String,
        admin_principal: String,
    }
    output::print(
        format,
        &serde_json::to_value(InitOut {
            keystore: cli.keystore.display().to_string(),
            root_key_file: key_file.map(|p| p.display().to_string()),
            anchor: cli.anchor.as_ref().map(|p| p.display().to_string()),
            region: ks.region().to_string(),
            account: ks.account().to_string(),
            admin_principal: ks.admin_principal().to_string(),
        })
        .map_err(|e| Error::internal(e.to_string()))?,
    )
}

/// Creates `path` empty if absent, and makes it mode 0600.
fn private_file(path: &Path) -> Result<(), Error> {
    let err = |e: std::io::Error| Error::internal(format!("cannot create {}: {e}", path.display()));
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        opts.open(path).map_err(err)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    #[cfg(not(unix))]
    opts.open(path).map_err(err)?;
    Ok(())
}

/// Type erasure for printing any response.
mod erased {
    pub trait Value {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Value for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

/// Whether `p` names a character device (`/dev/null`, a terminal).
fn is_char_device(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(p).is_ok_and(|m| m.file_type().is_char_device())
    }
    #[cfg(not(unix))]
    {
        let _ = p;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subcommand path of the CLI (`["list-keys"]`, `["audit", "show"]`, ...).
    fn subcommand_paths(c: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in c.get_subcommands() {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_owned());
            if sub.has_subcommands() {
                subcommand_paths(sub, &path, out);
            } else {
                out.push(path);
            }
        }
    }

    /// `path` parsed with a value for each of its required arguments (the
    /// first possible value, else "1").
    fn parse(path: &[String]) -> Cli {
        let mut sub = Cli::command();
        for name in path {
            sub = sub.find_subcommand(name).expect("a subcommand").clone();
        }
        let mut argv = vec!["strongroom".to_owned()];
        argv.extend(path.iter().cloned());
        // Required only without another argument.
        if path == ["serve"] {
            argv.extend(["--credentials".to_owned(), "1".to_owned()]);
        }
        for arg in sub.get_arguments().filter(|a| a.is_required_set()) {
            // Arguments whose parser takes KMS enum names.
            let value = match arg.get_long() {
                Some("signing-algorithm") => "ECDSA_SHA_256".to_owned(),
                Some("wrapping-key-spec") => "RSA_2048".to_owned(),
                Some("wrapping-algorithm") => "RSAES_OAEP_SHA_1".to_owned(),
                Some("key-pair-spec") => "RSA_2048".to_owned(),
                Some("mac-algorithm") => "HMAC_SHA_224".to_owned(),
                Some("key-agreement-algorithm") => "ECDH".to_owned(),
                _ => arg
                    .get_possible_values()
                    .first()
                    .map_or_else(|| "1".to_owned(), |v| v.get_name().to_owned()),
            };
            match arg.get_long() {
                Some(long) => argv.push(format!("--{long}")),
                None => assert!(arg.is_positional(), "{path:?}: {arg:?}"),
            }
            argv.push(value);
        }
        Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"))
    }

    /// For every command that opens a keystore and reaches the audit flush
    /// after it, the warning's wording is decided by the operation the
    /// command runs, named as the endpoint (and so the library's audit log)
    /// names it, through the log's own `is_read_only`; the commands that
    /// run no KMS operation are the named exceptions; and every KMS
    /// operation has its command.
    #[test]
    fn the_flush_warning_follows_the_audit_log_for_every_command() {
        let mut paths = Vec::new();
        subcommand_paths(&Cli::command(), &[], &mut paths);
        let mut kms = std::collections::BTreeSet::new();
        for path in &paths {
            let cli = parse(path);
            let c = &cli.command;
            let op = operation_name(c);
            let effect = audit_effect(c);
            match c {
                // Handled before the flush (they create or read the
                // keystore, or flush by themselves).
                Command::Init { .. }
                | Command::ImportKeystore { .. }
                | Command::MigrateKeystore
                | Command::EncryptFile(_)
                | Command::DecryptFile(_)
                | Command::Audit(_)
                | Command::Anchor(_) => {}
                Command::Serve(_) => assert_eq!(effect, AuditEffect::Mixed),
                Command::ExportKeystore { .. } => assert_eq!(effect, AuditEffect::ReadOnly),
                _ => {
                    assert!(
                        strongroom_server::ops::OPERATIONS.contains(&op.as_str()),
                        "{path:?} runs {op}, which is not a KMS operation"
                    );
                    let expected = if strongroom::core::audit::is_read_only(&op) {
                        AuditEffect::ReadOnly
                    } else {
                        AuditEffect::Changes
                    };
                    assert_eq!(effect, expected, "{path:?}");
                    kms.insert(op);
                }
            }
        }
        let served: std::collections::BTreeSet<String> = strongroom_server::ops::OPERATIONS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(kms, served);
        // Both wordings are used, on the operations CloudTrail marks so.
        for (path, effect) in [
            ("list-keys", AuditEffect::ReadOnly),
            ("decrypt", AuditEffect::ReadOnly),
            ("create-key", AuditEffect::Changes),
            ("put-key-policy", AuditEffect::Changes),
        ] {
            assert_eq!(
                audit_effect(&parse(&[path.to_owned()]).command),
                effect,
                "{path}"
            );
        }
    }
}
