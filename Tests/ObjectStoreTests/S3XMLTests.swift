import Testing
@testable import ObjectStore

struct S3XMLTests {
    @Test func readsElementsAndEntities() {
        let xml = S3XML(Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult><Contents><Key>a &amp; b&#x2F;&lt;c&gt;</Key><Size>3</Size></Contents>\
            <Contents><Key>d</Key><Size>4</Size></Contents><IsTruncated>false</IsTruncated></ListBucketResult>
            """.utf8))
        #expect(xml.elements("Contents").map { S3XML($0).first("Key") } == ["a & b/<c>", "d"])
        #expect(xml.values("Size") == ["3", "4"])
        #expect(xml.first("IsTruncated") == "false")
        #expect(!xml.isErrorDocument)
    }

    @Test func recognisesErrorDocumentsWhateverTheStatus() {
        let body = "<?xml version=\"1.0\"?>\n  <Error><Code>InternalError</Code><Message>x</Message></Error>"
        #expect(S3XML(Array(body.utf8)).isErrorDocument)
        #expect(!S3XML(Array("<CompleteMultipartUploadResult/>".utf8)).isErrorDocument)
    }

    @Test func escapesKeys() {
        let key = "a&b<c>\"d'\u{1}"
        #expect(S3XML.unescape(Substring(S3XML.escape(key))) == key)
    }

    @Test func errorsAreRetryableOnlyWhenAnotherTryCanHelp() {
        func error(_ code: ObjectStoreError.Code, _ server: String?, _ status: Int?) -> ObjectStoreError {
            ObjectStoreError(code, store: "s3://b", key: "k", cause: "c", serverCode: server, httpStatus: status)
        }
        #expect(error(.serverError, "SlowDown", 503).isRetryable)
        #expect(error(.serverError, "InternalError", 200).isRetryable)
        #expect(error(.serverError, "RequestTimeout", 400).isRetryable)
        #expect(error(.connectionLost, nil, nil).isRetryable)
        #expect(!error(.wrongCredentials, "SignatureDoesNotMatch", 403).isRetryable)
        #expect(!error(.notFound, "NoSuchKey", 404).isRetryable)
        #expect(!error(.serverError, "EntityTooSmall", 400).isRetryable)
    }
}
