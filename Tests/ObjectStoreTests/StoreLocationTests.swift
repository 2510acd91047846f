import Foundation
import Testing
@testable import ObjectStore

struct StoreLocationTests {
    static let env = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret-value",
                      "R2_ACCOUNT_ID": "abc123", "R2_ACCESS_KEY_ID": "R2KEY", "R2_SECRET_ACCESS_KEY": "r2-secret"]

    @Test func s3AndR2() throws {
        let (s3, prefix) = try StoreLocation.parse("s3://my-bucket/some/prefix/", environment: Self.env)
        #expect(prefix == "some/prefix/")
        let store = try #require(s3 as? S3Store)
        #expect(store.bucket == "my-bucket" && store.configuration.region == "us-east-1")
        #expect(store.configuration.endpoint == "https://s3.us-east-1.amazonaws.com")
        #expect(store.configuration.maxConcurrentParts == S3Configuration.defaultConcurrentParts)
        #expect(store.configuration.defaultPartSize == 5 << 20 && store.configuration.partChecksums)
        #expect(s3.displayName == "s3://my-bucket")

        let (r2, r2Prefix) = try StoreLocation.parse("r2://backups/p/", environment: Self.env)
        let r2Store = try #require(r2 as? S3Store)
        #expect(r2Prefix == "p/")
        #expect(r2Store.configuration.endpoint == "https://abc123.r2.cloudflarestorage.com")
        #expect(r2Store.configuration.region == "auto" && r2Store.configuration.accessKeyId == "R2KEY")
        #expect(r2Store.configuration.maxConcurrentParts == 2 && !r2Store.configuration.partChecksums)
        #expect(r2.displayName == "r2://backups")

        let custom = try StoreLocation.parse("s3://b-1/", environment: Self.env.merging(
            ["AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1"]) { $1 })
        let customStore = try #require(custom.store as? S3Store)
        #expect(customStore.configuration.endpoint == "http://127.0.0.1:9000" && customStore.configuration.region == "eu-west-1")
        #expect(custom.prefix == "")
        #expect(customStore.configuration.partChecksums)

        let plain = try StoreLocation.parse("s3://b-1/", environment: Self.env.merging(
            ["AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED", "BACKSTREAM_UPLOAD_PARTS": "1"]) { $1 })
        let plainStore = try #require(plain.store as? S3Store)
        #expect(!plainStore.configuration.partChecksums && plainStore.configuration.maxConcurrentParts == 1)
        #expect(throws: ObjectStoreError.self) {
            _ = try StoreLocation.parse("s3://b-1/", environment: Self.env.merging(["AWS_REQUEST_CHECKSUM_CALCULATION": "sometimes"]) { $1 })
        }
    }

    @Test func folders() throws {
        #expect((try StoreLocation.parse("/abs/dir", environment: [:]).store as? DirectoryStore)?.root == "/abs/dir")
        #expect((try StoreLocation.parse("file:///abs/dir/", environment: [:]).store as? DirectoryStore)?.root == "/abs/dir")
        let relative = try #require(try StoreLocation.parse("./rel", environment: [:]).store as? DirectoryStore)
        #expect(relative.root == FileManager.default.currentDirectoryPath + "/rel")
    }

    @Test func mistakesAreExplainedWithoutSecrets() throws {
        let missingKeys = try #require(throws: ObjectStoreError.self) { try StoreLocation.parse("s3://bucket/", environment: [:]) }
        #expect(missingKeys.description.contains("AWS_ACCESS_KEY_ID"))
        let noAccount = try #require(throws: ObjectStoreError.self) { try StoreLocation.parse("r2://bucket/", environment: ["AWS_SECRET_ACCESS_KEY": "x"]) }
        #expect(noAccount.description.contains("R2_ACCOUNT_ID"))
        #expect(throws: ObjectStoreError.self) { try StoreLocation.parse("gs://bucket/", environment: Self.env) }
        let badBucket = try #require(throws: ObjectStoreError.self) { try StoreLocation.parse("s3://Bad_Bucket/", environment: Self.env) }
        #expect(!badBucket.description.contains("secret-value"))
    }
}
