// A stand-in for Stripe.js (js.stripe.com is unreachable here), served by the tests in its place.
// It has the calls our Payment Element code makes and turns card numbers into Stripe's test
// PaymentMethods, as Stripe.js does in test mode.
window.Stripe = function (key) {
  if (!key.startsWith('pk_')) throw new Error('not a publishable key');
  let input;
  return {
    elements(options) {
      if (options.mode !== 'payment' || options.currency !== 'usd' || !(options.amount > 0)) throw new Error('bad options');
      return {
        create(kind) {
          return {
            mount(selector) {
              const host = document.querySelector(selector);
              host.replaceChildren();
              input = document.createElement('input');
              input.setAttribute('aria-label', 'Card number');
              host.append(input);
            },
          };
        },
        submit() {
          const digits = (input?.value ?? '').replace(/\s/g, '');
          return Promise.resolve(digits.length < 16 ? { error: { message: 'Your card number is incomplete.' } } : {});
        },
      };
    },
    createPaymentMethod({ elements }) {
      const digits = input.value.replace(/\s/g, '');
      const id = digits.endsWith('0002') ? 'pm_card_chargeDeclined' : 'pm_card_visa';
      return Promise.resolve({ paymentMethod: { id } });
    },
  };
};
