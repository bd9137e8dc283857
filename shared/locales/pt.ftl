### Textos do bot em português europeu (tratamento formal, sem "você"). Fonte: en.ftl.
### Títulos dos botões (menu-*, faq-yes, faq-no, list-button, csat-button, csat-no-comment): no máximo 20 caracteres;
### linhas do inquérito (estrelas, um espaço e um csat-score): no máximo 24.

greeting = Olá, { $name }! Sou o assistente virtual. Como posso ajudar hoje?
greeting-anonymous = Olá! Sou o assistente virtual. Como posso ajudar hoje?

## Menu principal

menu-footer = Também pode escrever a sua pergunta.
menu-order-status = Estado da encomenda
menu-faq = Perguntas frequentes
menu-agent = Falar com um agente
menu-language = Idioma
list-button = Ver opções
faq-list-intro = Estas são as perguntas mais frequentes. Escolha uma ou escreva a sua pergunta.

## Encomendas

ask-order-number = Envie, por favor, o número da sua encomenda (por exemplo, { $example }).
bad-order-number = Isso não parece um número de encomenda. Envie-o, por favor, no formato { $example }.
order-status = Encomenda { $order }: { $status }.
order-not-found = Não encontrei a encomenda { $order }. Verifique o número ou fale com um agente.
order-source-down = Lamento, neste momento não consigo consultar as encomendas. Pode tentar mais tarde ou falar com um agente.

## Perguntas frequentes

faq-solved-question = Isto respondeu à sua pergunta?
faq-yes = Sim, obrigado
faq-no = Não
faq-glad = Ótimo, ainda bem que pude ajudar! Escreva-nos sempre que precisar de mais alguma coisa.
faq-sorry = Lamento. Vamos tentar de novo: escolha uma opção ou fale com um agente.
not-understood = Desculpe, não compreendi. Escolha uma opção, por favor:

## Passagem para uma equipa ($wait é um dos textos wait-* abaixo)

handoff = Vou passar a sua conversa para a nossa equipa de { $team }. Receberá uma resposta no prazo de { $wait }. A equipa verá a nossa conversa, por isso não precisará de repetir nada.
handoff-failures = Lamento não ter conseguido ajudar. Vou passar a sua conversa para a nossa equipa de { $team }; receberá uma resposta no prazo de { $wait }.
handoff-out-of-hours = Vou passar a sua conversa para a nossa equipa de { $team }. Neste momento, a equipa não está disponível e responderá a partir de { $when }. Também pode escrever para { $email }.
handoff-vip = Obrigado pela sua preferência. Vou passar a sua conversa diretamente para a nossa equipa de { $team }; receberá uma resposta no prazo de { $wait }.
handoff-by = Vou passar a sua conversa para a nossa equipa de { $team }. Receberá uma resposta até { $when }. A equipa verá a nossa conversa, por isso não precisará de repetir nada.
handoff-failures-by = Lamento não ter conseguido ajudar. Vou passar a sua conversa para a nossa equipa de { $team }; receberá uma resposta até { $when }.
handoff-vip-by = Obrigado pela sua preferência. Vou passar a sua conversa diretamente para a nossa equipa de { $team }; receberá uma resposta até { $when }.
back-to-bot = Sem problema, cancelei o seu pedido para falar com um agente. Como posso ajudar?

## Idioma

language-prompt = Em que idioma prefere continuar?
language-changed = Feito! Idioma selecionado: { $language }.

## Outras mensagens

reaction-thanks = Obrigado pelo seu feedback!
unsupported-message = Desculpe, não consigo ler este tipo de mensagem. Envie texto ou escolha uma opção, por favor:
received-location = Obrigado, recebi a sua localização.
received-contact = Obrigado, recebi o contacto.

## Tempos de espera

wait-minutes =
    { $count ->
        [one] { $count } minuto
       *[other] { $count } minutos
    }
wait-hours =
    { $count ->
        [one] { $count } hora
       *[other] { $count } horas
    }
wait-days =
    { $count ->
        [one] { $count } dia
       *[other] { $count } dias
    }

# A file (photo, document, voice note) the customer sent.
received-media = Obrigado, anexei o seu ficheiro ao seu pedido.

# Day of the week, 1 = Monday … 7 = Sunday (when a team opens again).
weekday =
    { $day ->
        [1] segunda-feira
        [2] terça-feira
        [3] quarta-feira
        [4] quinta-feira
        [5] sexta-feira
        [6] sábado
       *[7] domingo
    }
when-at = { $weekday } às { $time }

# Files the customer sent: why one was refused, and what to fix in a photo.
media-too-large = Este ficheiro é demasiado grande ({ $limit } no máximo). Envie um mais pequeno, por favor.
media-dangerous = Pela sua segurança não podemos aceitar este ficheiro. Envie uma fotografia, um PDF ou um documento de texto.
media-mismatch = Este ficheiro não é o que o nome indica e não o conseguimos abrir. Envie-o de novo como fotografia ou PDF.
media-unknown-type = Não conseguimos abrir este tipo de ficheiro. Envie uma fotografia, um vídeo, uma mensagem de voz ou um PDF.
media-corrupt = O ficheiro chegou danificado. Pode enviá-lo de novo?
photo-too-small = Obrigado! A fotografia é demasiado pequena para ver os detalhes: tire-a de novo mais de perto, com o produto a ocupar o enquadramento.
photo-too-dark = Obrigado! A fotografia está demasiado escura: tire-a de novo junto a uma janela ou com mais luz, com a etiqueta visível.
photo-overexposed = Obrigado! A fotografia tem demasiada luz para ver os detalhes: tire-a de novo longe de luz direta.
photo-blurred = Obrigado! A fotografia está desfocada: segure o telemóvel sem mexer, toque no ecrã para focar e tire-a de novo.
photo-request = Envie uma fotografia do produto que mostre o problema, com boa luz e com a etiqueta visível.

## Níveis de serviço e inquéritos de satisfação

# Quando o cliente terá notícias nossas, dentro de uma frase: $wait é um texto wait-*, $when um texto when-at.
expected-within = no prazo de { $wait }
expected-from = a partir de { $when }
expected-by = até { $when }
# Um prazo ultrapassado, comunicado ao cliente; $expected é um dos textos expected-*.
breach-senior = Lamentamos a espera. O seu pedido foi encaminhado para um responsável da nossa equipa de { $team }; terá notícias nossas { $expected }.
breach-specialists = O seu pedido foi encaminhado para os nossos { $team }; terá notícias nossas { $expected }.
# O inquérito depois da resolução: uma lista de cinco avaliações (de «a ajuda», no feminino).
csat-question = Como avalia a ajuda que recebeu?
csat-button = Escolher avaliação
csat-score =
    { $score ->
        [1] Muito má
        [2] Má
        [3] Razoável
        [4] Boa
       *[5] Excelente
    }
csat-thanks-ask = Obrigado! Quer acrescentar alguma coisa? Basta escrever aqui.
csat-no-comment = Não, obrigado
csat-thanks = Obrigado pela sua opinião.
# A customer known only by their WhatsApp user id is asked for their phone (WhatsApp adds its own button).
contact-request = Para tratar o seu pedido, a equipa precisa do seu número de telefone: toque no botão abaixo para o partilhar.
consent-opted-out = Não receberá mensagens nossas, a menos que nos escreva primeiro. Responda START se mudar de ideias.
consent-opted-in = Obrigado: agora podemos enviar-lhe novidades. Responda STOP a qualquer momento para as parar.
