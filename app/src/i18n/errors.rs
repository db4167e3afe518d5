//! The API's errors in the reader's language, by their stable `code` (docs/errors.md).
use super::Locale;

/// What the error with `code` says in `locale`; `None` where the service's English `message` is
/// the text (in English, and for a code this table does not know: a newer server's).
pub fn error_text(locale: Locale, code: &str) -> Option<&'static str> {
    match locale {
        Locale::En => None,
        Locale::Ja => japanese(code),
    }
}

/// Every code of `contract::ErrorCode` but `unknown`, which keeps the service's message. The
/// limits are the services' (their English messages say the same).
fn japanese(code: &str) -> Option<&'static str> {
    Some(match code {
        // Any route.
        "not_authorized" => "この操作を行う権限がありません。サインインしてからもう一度お試しください。",
        "not_found" => "お探しのものが見つかりませんでした。削除されたか、URLが間違っている可能性があります。",
        "method_not_allowed" => "この操作は許可されていません。",
        "payload_too_large" => "送信されたデータが大きすぎます。内容を減らしてもう一度お試しください。",
        "too_many_requests" => "リクエストが多すぎます。しばらくしてからもう一度お試しください。",
        "server_busy" => "サーバーが混み合っています。しばらくしてからもう一度お試しください。",
        "internal" => "問題が発生しました。しばらくしてからもう一度お試しください。",
        "database_unavailable" => "データベースに接続できません。しばらくしてからもう一度お試しください。",
        "service_unavailable" => "サービスのAPI仕様を取得できませんでした。もう一度お試しください。",
        // The request body.
        "wrong_content_type" => "リクエストはJSON形式（Content-Type: application/json）で送信してください。",
        "body_unreadable" => "リクエストの内容を読み取れませんでした。もう一度お試しください。",
        "invalid_json" => "リクエストの内容が正しいJSON形式ではありません。",
        "invalid_body" => "リクエストの内容に誤りがあります。入力内容をご確認ください。",
        "wrong_type" => "この項目の値の形式が正しくありません。",
        // Sign-up and sign-in.
        "email_required" => "メールアドレスを入力してください。",
        "email_invalid" => "有効なメールアドレスを入力してください。",
        "email_in_use" => "このメールアドレスはすでに使われています。",
        "password_length" => "パスワードは8文字以上128文字以下で入力してください。",
        "password_required" => "パスワードを入力してください。",
        "invalid_credentials" => "メールアドレスまたはパスワードが正しくありません。",
        // Tickets.
        "title_required" => "タイトルを入力してください。",
        "title_too_long" => "タイトルは200文字以内で入力してください。",
        "title_control_characters" => "タイトルにタブや改行などの制御文字は使えません。",
        "title_invisible_characters" => "タイトルにゼロ幅スペースなどの目に見えない書式文字は使えません。",
        "price_required" => "価格を入力してください。",
        "price_not_positive" => "価格には0より大きい値を入力してください。",
        "price_not_number" => "価格は数字で入力してください。",
        "price_malformed" => "価格は小数点以下2桁までの数字で入力してください。",
        "price_too_small" => "価格は$0.50以上で入力してください。",
        "price_too_large" => "価格は$999,999.99以下で入力してください。",
        "limit_invalid" => "表示件数は1から200までの数字で指定してください。",
        "before_unknown" => "一覧の続きの起点となるチケットが見つかりません。一覧を最初から表示し直してください。",
        "edit_reserved_ticket" => "予約中のチケットは編集できません。",
        "delete_reserved_ticket" => "予約中のチケットは削除できません。",
        // Orders.
        "ticket_id_required" => "購入するチケットを指定してください。",
        "buy_own_ticket" => "ご自身が出品したチケットは購入できません。",
        "ticket_reserved" => "このチケットはすでに予約されています。",
        "too_many_holds" => "予約中のチケットが多すぎます。お支払いかキャンセルをしてから、もう一度お試しください。",
        "cancel_completed_order" => "お支払い済みの注文はキャンセルできません。",
        // Payments.
        "order_id_required" => "支払う注文を指定してください。",
        "token_required" => "支払いに使うカードを選択してください。",
        "token_invalid" => "カード情報の形式が正しくありません。別のカードをお選びください。",
        "token_unknown" => "このカードは決済サービスで見つかりませんでした。別のカードをお選びください。",
        "order_cancelled" => "キャンセルされた注文には支払いできません。",
        "order_paid" => "この注文はすでにお支払い済みです。",
        "payment_in_progress" => "この注文の支払いを処理中です。しばらくお待ちください。",
        "card_declined" => "カードが拒否されました。別のカードをお試しください。",
        "card_needs_authentication" => "このカードには3Dセキュア認証が必要ですが、ここでは認証できません（Stripe.jsのみが対応しており、支払いはテストモードです）。料金は請求されていません。別のカードをお選びください。",
        "payment_provider_unavailable" => "決済サービスに接続できませんでした。料金は請求されていません。もう一度お試しください。",
        "payment_provider_failed" => "決済サービスで支払いを処理できませんでした。料金は請求されていません。もう一度お試しください。",
        "payment_provider_no_answer" => "決済サービスから応答がありませんでした。支払いが完了していれば、まもなく注文が完了します。完了しない場合は、1分ほどしてからもう一度お試しください。",
        "payment_processing" => "支払いはまだ処理中です。支払いが完了すると、まもなく注文が完了します。",
        "webhook_signature_missing" => "Stripe-Signatureヘッダーがありません。",
        "webhook_not_utf8" => "Webhookの本文がUTF-8ではありません。",
        "webhook_malformed" => "Webhookのイベントの形式が正しくありません。",
        "webhook_signature_stale" => "Stripe-Signatureのタイムスタンプが古すぎます。",
        "webhook_signature_invalid" => "Stripe-Signatureが正しくありません。",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::ErrorCode;

    #[test]
    fn every_code_but_unknown_has_japanese_and_english_keeps_the_message() {
        let missing: Vec<&str> = ErrorCode::ALL
            .into_iter()
            .filter(|code| *code != ErrorCode::Unknown)
            .map(ErrorCode::as_str)
            .filter(|code| error_text(Locale::Ja, code).is_none())
            .collect();
        assert!(missing.is_empty(), "no Japanese text for {missing:?}");
        for code in ErrorCode::ALL {
            assert_eq!(error_text(Locale::En, code.as_str()), None, "English has a text for {}", code.as_str());
        }
        assert_eq!(error_text(Locale::Ja, ErrorCode::Unknown.as_str()), None);
        assert_eq!(error_text(Locale::Ja, "a_newer_servers_code"), None);
    }
}
