//! The API's errors in the reader's language, by their stable `code` (docs/errors.md).
use contract::ErrorCode;

use super::Locale;

/// What the error with `code` says in `locale`; `None` where the service's English `message` is
/// the text (in English, and for a code this table does not know: a newer server's).
pub fn error_text(locale: Locale, code: &str) -> Option<&'static str> {
    match locale {
        Locale::En => None,
        Locale::Ja => japanese(ErrorCode::from_name(code)),
    }
}

/// Every code but `Unknown`, which keeps the service's message: a match on the enum, so a new
/// code does not compile until it has its text. The limits are the services' (their English
/// messages say the same).
fn japanese(code: ErrorCode) -> Option<&'static str> {
    Some(match code {
        // Any route.
        ErrorCode::NotAuthorized => "この操作を行う権限がありません。サインインしてからもう一度お試しください。",
        ErrorCode::NotFound => "お探しのものが見つかりませんでした。削除されたか、URLが間違っている可能性があります。",
        ErrorCode::MethodNotAllowed => "この操作は許可されていません。",
        ErrorCode::PayloadTooLarge => "送信されたデータが大きすぎます。内容を減らしてもう一度お試しください。",
        ErrorCode::TooManyRequests => "リクエストが多すぎます。しばらくしてからもう一度お試しください。",
        ErrorCode::ServerBusy => "サーバーが混み合っています。しばらくしてからもう一度お試しください。",
        ErrorCode::Internal => "問題が発生しました。しばらくしてからもう一度お試しください。",
        ErrorCode::DatabaseUnavailable => "データベースに接続できません。しばらくしてからもう一度お試しください。",
        ErrorCode::ServiceUnavailable => "サービスのAPI仕様を取得できませんでした。もう一度お試しください。",
        // The request body.
        ErrorCode::WrongContentType => "リクエストはJSON形式（Content-Type: application/json）で送信してください。",
        ErrorCode::BodyUnreadable => "リクエストの内容を読み取れませんでした。もう一度お試しください。",
        ErrorCode::InvalidJson => "リクエストの内容が正しいJSON形式ではありません。",
        ErrorCode::InvalidBody => "リクエストの内容に誤りがあります。入力内容をご確認ください。",
        ErrorCode::WrongType => "この項目の値の形式が正しくありません。",
        // Sign-up and sign-in.
        ErrorCode::EmailRequired => "メールアドレスを入力してください。",
        ErrorCode::EmailInvalid => "有効なメールアドレスを入力してください。",
        ErrorCode::EmailInUse => "このメールアドレスはすでに使われています。",
        ErrorCode::PasswordLength => "パスワードは8文字以上128文字以下で入力してください。",
        ErrorCode::PasswordRequired => "パスワードを入力してください。",
        ErrorCode::InvalidCredentials => "メールアドレスまたはパスワードが正しくありません。",
        // Tickets.
        ErrorCode::TitleRequired => "タイトルを入力してください。",
        ErrorCode::TitleTooLong => "タイトルは200文字以内で入力してください。",
        ErrorCode::TitleControlCharacters => "タイトルにタブや改行などの制御文字は使えません。",
        ErrorCode::TitleInvisibleCharacters => "タイトルにゼロ幅スペースなどの目に見えない書式文字は使えません。",
        ErrorCode::PriceRequired => "価格を入力してください。",
        ErrorCode::PriceNotPositive => "価格には0より大きい値を入力してください。",
        ErrorCode::PriceNotNumber => "価格は数字で入力してください。",
        ErrorCode::PriceMalformed => "価格は小数点以下2桁までの数字で入力してください。",
        ErrorCode::PriceTooSmall => "価格は$0.50以上で入力してください。",
        ErrorCode::PriceTooLarge => "価格は$999,999.99以下で入力してください。",
        ErrorCode::LimitInvalid => "表示件数は1から200までの数字で指定してください。",
        ErrorCode::BeforeUnknown => "一覧の続きの起点となるチケットが見つかりません。一覧を最初から表示し直してください。",
        ErrorCode::EditReservedTicket => "予約中のチケットは編集できません。",
        ErrorCode::DeleteReservedTicket => "予約中のチケットは削除できません。",
        // Orders.
        ErrorCode::TicketIdRequired => "購入するチケットを指定してください。",
        ErrorCode::BuyOwnTicket => "ご自身が出品したチケットは購入できません。",
        ErrorCode::TicketReserved => "このチケットはすでに予約されています。",
        ErrorCode::TooManyHolds => "予約中のチケットが多すぎます。お支払いかキャンセルをしてから、もう一度お試しください。",
        ErrorCode::CancelCompletedOrder => "お支払い済みの注文はキャンセルできません。",
        // Payments.
        ErrorCode::OrderIdRequired => "支払う注文を指定してください。",
        ErrorCode::TokenRequired => "支払いに使うカードを選択してください。",
        ErrorCode::TokenInvalid => "カード情報の形式が正しくありません。別のカードをお選びください。",
        ErrorCode::TokenUnknown => "このカードは決済サービスで見つかりませんでした。別のカードをお選びください。",
        ErrorCode::OrderCancelled => "キャンセルされた注文には支払いできません。",
        ErrorCode::OrderPaid => "この注文はすでにお支払い済みです。",
        ErrorCode::PaymentInProgress => "この注文の支払いを処理中です。しばらくお待ちください。",
        ErrorCode::CardDeclined => "カードが拒否されました。別のカードをお試しください。",
        ErrorCode::CardNeedsAuthentication => "このカードには3Dセキュア認証が必要ですが、ここでは認証できません（Stripe.jsのみが対応しており、支払いはテストモードです）。料金は請求されていません。別のカードをお選びください。",
        ErrorCode::PaymentProviderUnavailable => "決済サービスに接続できませんでした。料金は請求されていません。もう一度お試しください。",
        ErrorCode::PaymentProviderFailed => "決済サービスで支払いを処理できませんでした。料金は請求されていません。もう一度お試しください。",
        ErrorCode::PaymentProviderNoAnswer => "決済サービスから応答がありませんでした。支払いが完了していれば、まもなく注文が完了します。完了しない場合は、1分ほどしてからもう一度お試しください。",
        ErrorCode::PaymentProcessing => "支払いはまだ処理中です。支払いが完了すると、まもなく注文が完了します。",
        ErrorCode::WebhookSignatureMissing => "Stripe-Signatureヘッダーがありません。",
        ErrorCode::WebhookNotUtf8 => "Webhookの本文がUTF-8ではありません。",
        ErrorCode::WebhookMalformed => "Webhookのイベントの形式が正しくありません。",
        ErrorCode::WebhookSignatureStale => "Stripe-Signatureのタイムスタンプが古すぎます。",
        ErrorCode::WebhookSignatureInvalid => "Stripe-Signatureが正しくありません。",
        ErrorCode::Unknown => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_but_unknown_has_japanese_and_english_keeps_the_message() {
        let missing: Vec<&str> = ErrorCode::ALL
            .iter()
            .copied()
            .filter(|code| *code != ErrorCode::Unknown)
            .map(ErrorCode::as_str)
            .filter(|code| error_text(Locale::Ja, code).is_none())
            .collect();
        assert!(missing.is_empty(), "no Japanese text for {missing:?}");
        for &code in ErrorCode::ALL {
            assert_eq!(error_text(Locale::En, code.as_str()), None, "English has a text for {}", code.as_str());
        }
        assert_eq!(error_text(Locale::Ja, ErrorCode::Unknown.as_str()), None);
        assert_eq!(error_text(Locale::Ja, "a_newer_servers_code"), None);
    }
}
